package io.distillery.student;

import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Per-example masks for the distillation losses. */
final class LossMasks {
  private LossMasks() {}

  /** The mask as a column vector [batch, 1] of the labels' type; only per-example masks are supported. */
  static INDArray perExample(INDArray mask, INDArray labels, String loss) {
    if (mask.rank() == 2 && mask.size(1) == 1) {
      return mask.castTo(labels.dataType());
    }
    if (mask.rank() == 1) {
      return mask.reshape(mask.length(), 1).castTo(labels.dataType());
    }
    throw new IllegalArgumentException(loss + " supports per-example masks [batch, 1] only, got shape "
        + Arrays.toString(mask.shape()));
  }
}
