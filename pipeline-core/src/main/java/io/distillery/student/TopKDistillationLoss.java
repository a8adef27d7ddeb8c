package io.distillery.student;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * {@link SoftTargetLoss} for a vocabulary the teacher answers with its top k: labels are compact,
 * [n, 2k + 1] per position (k token ids, their k probabilities at temperature 1, then the hard token id), and are
 * expanded here to the dense soft targets ({@link SoftTargets}: the rest of the mass spread over the other tokens,
 * softened at T) and a one-hot hard target. A language model's labels stay 2k + 1 floats a position whatever the
 * vocabulary, instead of 2V. A row whose hard id is negative is padding: it scores 0 and has no gradient.
 */
public final class TopKDistillationLoss extends SoftTargetLoss {

  @JsonCreator
  public TopKDistillationLoss(@JsonProperty("softLabelWeight") double softLabelWeight,
      @JsonProperty("temperature") double temperature) {
    super(softLabelWeight, temperature);
  }

  /** The compact label of one position: {@code 2k + 1} floats. */
  public static float[] label(int[] topIds, float[] topProbabilities, int hardId) {
    if (topIds.length != topProbabilities.length) {
      throw new IllegalArgumentException(topIds.length + " ids but " + topProbabilities.length + " probabilities");
    }
    int k = topIds.length;
    float[] label = new float[2 * k + 1];
    for (int i = 0; i < k; i++) {
      label[i] = topIds[i];
      label[k + i] = topProbabilities[i];
    }
    label[2 * k] = hardId;
    return label;
  }

  /** The compact label of a padding position. */
  public static float[] padding(int k) {
    float[] label = new float[2 * k + 1];
    label[2 * k] = -1;
    return label;
  }

  /** Dense soft targets p and one-hot y [n, V] from compact labels [n, 2k + 1]. */
  @Override
  INDArray[] targets(INDArray labels, INDArray z) {
    long cols = labels.size(1);
    if (labels.rank() != 2 || z.rank() != 2 || cols % 2 != 1 || labels.size(0) != z.size(0)) {
      throw new IllegalArgumentException("TopKDistillationLoss needs labels [n, 2k + 1] (k ids, k probabilities, "
          + "the hard id) for outputs [n, V]; got labels " + Arrays.toString(labels.shape()) + " and outputs "
          + Arrays.toString(z.shape()));
    }
    int n = (int) z.size(0);
    int vocab = (int) z.size(1);
    int k = (int) (cols - 1) / 2;
    int width = (int) cols;
    // One bulk copy each way: reading a [n, 2k + 1] view element by element cost more than the network's step.
    float[] compact = labels.castTo(DataType.FLOAT).dup('c').data().asFloat();
    float[] p = new float[n * vocab];
    float[] y = new float[n * vocab];
    int[] ids = new int[k];
    double[] probabilities = new double[k];
    for (int r = 0; r < n; r++) {
      int row = r * width;
      int hard = (int) compact[row + 2 * k];
      if (hard < 0) {
        continue; // padding: p and y stay 0
      }
      for (int i = 0; i < k; i++) {
        ids[i] = checkedId(compact[row + i], vocab);
        probabilities[i] = compact[row + k + i];
      }
      SoftTargets.into(ids, probabilities, vocab, temperature(), p, r * vocab);
      y[r * vocab + checkedId(hard, vocab)] = 1;
    }
    long[] shape = {n, vocab};
    return new INDArray[] {Nd4j.create(p, shape, 'c').castTo(z.dataType()), Nd4j.create(y, shape, 'c')
        .castTo(z.dataType())};
  }

  private static int checkedId(float id, int vocab) {
    if (!(id >= 0 && id < vocab) || id != Math.rint(id)) {
      throw new IllegalArgumentException("token id " + id + " is not in the student's vocabulary of " + vocab);
    }
    return (int) id;
  }
}
