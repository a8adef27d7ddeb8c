package io.distillery.student;

import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Knowledge distillation ({@link SoftTargetLoss}) with dense labels [batch, 2C]: p_T in the first C columns, the
 * one-hot y in the last C ({@link ClassifierInputs#example}).
 */
public final class KnowledgeDistillationLoss extends SoftTargetLoss {

  @JsonCreator
  public KnowledgeDistillationLoss(@JsonProperty("softLabelWeight") double softLabelWeight,
      @JsonProperty("temperature") double temperature) {
    super(softLabelWeight, temperature);
  }

  @Override
  INDArray[] targets(INDArray labels, INDArray z) {
    if (labels.rank() != 2 || z.rank() != 2 || labels.size(1) != 2 * z.size(1) || labels.size(0) != z.size(0)) {
      throw new IllegalArgumentException("KnowledgeDistillationLoss needs labels [batch, 2C] (soft targets, then "
          + "one-hot) for outputs [batch, C]; got labels " + Arrays.toString(labels.shape())
          + " and outputs " + Arrays.toString(z.shape()));
    }
    long c = labels.size(1) / 2;
    return new INDArray[] {labels.get(NDArrayIndex.all(), NDArrayIndex.interval(0, c)),
        labels.get(NDArrayIndex.all(), NDArrayIndex.interval(c, 2 * c))};
  }
}
