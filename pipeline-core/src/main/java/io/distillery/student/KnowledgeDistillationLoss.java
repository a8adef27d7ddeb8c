package io.distillery.student;

import java.util.Arrays;
import java.util.Objects;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Hinton et al. (2015) knowledge distillation, per example:
 * {@code α·T²·KL(p_T ‖ softmax(z/T)) + (1−α)·CE(y, softmax(z))}, with z the student's logits (the output layer's
 * activation, normally identity), p_T the teacher's distribution softened at temperature T and y the hard label.
 * Labels are [batch, 2C]: p_T in the first C columns, the one-hot y in the last C ({@link ClassifierInputs#example}).
 *
 * <p>Gradient w.r.t. z: {@code α·T·(softmax(z/T)·Σp − p) + (1−α)·(softmax(z)·Σy − y)}; the T² keeps the soft term's
 * gradient on the same scale whatever T. Analytic, checked against finite differences in the tests. Immutable
 * and Jackson-serializable, because Spark ships the network configuration as JSON.
 */
public final class KnowledgeDistillationLoss extends PerExampleLoss {
  private static final double TINY = 1e-12;

  @JsonProperty("softLabelWeight")
  private final double softLabelWeight;

  @JsonProperty("temperature")
  private final double temperature;

  @JsonCreator
  public KnowledgeDistillationLoss(@JsonProperty("softLabelWeight") double softLabelWeight,
      @JsonProperty("temperature") double temperature) {
    checkWeights(softLabelWeight, temperature);
    this.softLabelWeight = softLabelWeight;
    this.temperature = temperature;
  }

  public double softLabelWeight() {
    return softLabelWeight;
  }

  public double temperature() {
    return temperature;
  }

  /** Soft targets (first half of the labels). */
  private static INDArray soft(INDArray labels) {
    return labels.get(NDArrayIndex.all(),
        NDArrayIndex.interval(0, labels.size(1) / 2));
  }

  /** Hard one-hot targets (second half of the labels). */
  private static INDArray hard(INDArray labels) {
    return labels.get(NDArrayIndex.all(),
        NDArrayIndex.interval(labels.size(1) / 2, labels.size(1)));
  }

  private static void checkShapes(INDArray labels, INDArray z) {
    if (labels.rank() != 2 || z.rank() != 2 || labels.size(1) != 2 * z.size(1) || labels.size(0) != z.size(0)) {
      throw new IllegalArgumentException("KnowledgeDistillationLoss needs labels [batch, 2C] (soft targets, then "
          + "one-hot) for outputs [batch, C]; got labels " + Arrays.toString(labels.shape())
          + " and outputs " + Arrays.toString(z.shape()));
    }
  }

  /** Row-wise log-softmax of {@code z / t}. */
  private static INDArray logSoftmax(INDArray z, double t) {
    INDArray scaled = z.div(t);
    INDArray max = scaled.max(1).reshape(z.size(0), 1);
    INDArray shifted = scaled.subColumnVector(max);
    INDArray logSum = Transforms.log(Transforms.exp(shifted, true).sum(1), false).reshape(z.size(0), 1);
    return shifted.subiColumnVector(logSum);
  }

  @Override
  public INDArray computeScoreArray(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
    INDArray z = activationFn.getActivation(preOutput.dup(), true);
    checkShapes(labels, z);
    INDArray score = scores(soft(labels), hard(labels), z, softLabelWeight, temperature);
    return mask == null ? score : score.muli(LossMasks.perExample(mask, labels, "KnowledgeDistillationLoss"));
  }

  @Override
  public INDArray computeGradient(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
    INDArray z = activationFn.getActivation(preOutput.dup(), true);
    checkShapes(labels, z);
    INDArray dLdz = gradient(soft(labels), hard(labels), z, softLabelWeight, temperature);
    if (mask != null) {
      dLdz.muliColumnVector(LossMasks.perExample(mask, labels, "KnowledgeDistillationLoss"));
    }
    return activationFn.backprop(preOutput.dup(), dLdz).getFirst();
  }

  /** Per-example scores [n, 1] for softened teacher distributions p, hard targets y and logits z, all [n, C]. */
  static INDArray scores(INDArray p, INDArray y, INDArray z, double softLabelWeight, double temperature) {
    long n = z.size(0);
    // KL(p || q_T) = sum p log p - sum p log q_T  (0 log 0 = 0)
    INDArray plogp = p.mul(Transforms.log(p.add(TINY), true)).sum(1).reshape(n, 1);
    INDArray kl = plogp.subi(p.mul(logSoftmax(z, temperature)).sum(1).reshape(n, 1));
    INDArray ce = y.mul(logSoftmax(z, 1.0)).sum(1).reshape(n, 1).negi();
    return kl.muli(softLabelWeight * temperature * temperature).addi(ce.muli(1 - softLabelWeight));
  }

  /** dL/dz [n, C] of {@link #scores}. */
  static INDArray gradient(INDArray p, INDArray y, INDArray z, double softLabelWeight, double temperature) {
    long n = z.size(0);
    INDArray qT = Transforms.exp(logSoftmax(z, temperature), false);
    INDArray q = Transforms.exp(logSoftmax(z, 1.0), false);
    INDArray dSoft = qT.mulColumnVector(p.sum(1).reshape(n, 1)).subi(p).muli(softLabelWeight * temperature);
    INDArray dHard = q.mulColumnVector(y.sum(1).reshape(n, 1)).subi(y).muli(1 - softLabelWeight);
    return dSoft.addi(dHard);
  }

  static void checkWeights(double softLabelWeight, double temperature) {
    if (!(softLabelWeight >= 0 && softLabelWeight <= 1) || !(temperature > 0)) {
      throw new IllegalArgumentException("soft-label weight must be in [0, 1] and temperature > 0: weight="
          + softLabelWeight + ", temperature=" + temperature);
    }
  }

  @Override
  public String name() {
    return "KnowledgeDistillationLoss(alpha=" + softLabelWeight + ", T=" + temperature + ")";
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof KnowledgeDistillationLoss other && other.softLabelWeight == softLabelWeight
        && other.temperature == temperature;
  }

  @Override
  public int hashCode() {
    return Objects.hash(softLabelWeight, temperature);
  }
}
