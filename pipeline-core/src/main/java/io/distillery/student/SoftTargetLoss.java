package io.distillery.student;

import java.util.Objects;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Hinton et al. (2015) knowledge distillation, per example:
 * {@code α·T²·KL(p_T ‖ softmax(z/T)) + (1−α)·CE(y, softmax(z))}, with z the student's logits (the output layer's
 * activation, normally identity), p_T the teacher's distribution softened at temperature T and y the hard label.
 * Subclasses say how the labels hold p_T and y ({@link #targets}).
 *
 * <p>Gradient w.r.t. z: {@code α·T·(softmax(z/T)·Σp − p) + (1−α)·(softmax(z)·Σy − y)}; the T² keeps the soft term's
 * gradient on the same scale whatever T. Analytic, checked against finite differences in the tests. Immutable
 * and Jackson-serializable, because Spark ships the network configuration as JSON.
 */
abstract class SoftTargetLoss extends PerExampleLoss {
  private static final double TINY = 1e-12;

  @JsonProperty("softLabelWeight")
  private final double softLabelWeight;

  @JsonProperty("temperature")
  private final double temperature;

  SoftTargetLoss(double softLabelWeight, double temperature) {
    if (!(softLabelWeight >= 0 && softLabelWeight <= 1) || !(temperature > 0)) {
      throw new IllegalArgumentException("soft-label weight must be in [0, 1] and temperature > 0: weight="
          + softLabelWeight + ", temperature=" + temperature);
    }
    this.softLabelWeight = softLabelWeight;
    this.temperature = temperature;
  }

  public double softLabelWeight() {
    return softLabelWeight;
  }

  public double temperature() {
    return temperature;
  }

  /** The softened teacher distributions p and the hard targets y, both [n, C], for logits z [n, C]. */
  abstract INDArray[] targets(INDArray labels, INDArray z);

  @Override
  public final INDArray computeScoreArray(INDArray labels, INDArray preOutput, IActivation activationFn,
      INDArray mask) {
    INDArray z = activationFn.getActivation(preOutput.dup(), true);
    return maskedScores(targets(labels, z), z, mask);
  }

  @Override
  public final INDArray computeGradient(INDArray labels, INDArray preOutput, IActivation activationFn,
      INDArray mask) {
    INDArray z = activationFn.getActivation(preOutput.dup(), true);
    return maskedGradient(targets(labels, z), z, preOutput, activationFn, mask);
  }

  /** Both from one expansion of the labels (the layer asks for the two together every step). */
  @Override
  public final Pair<Double, INDArray> computeGradientAndScore(INDArray labels, INDArray preOutput,
      IActivation activationFn, INDArray mask, boolean average) {
    INDArray z = activationFn.getActivation(preOutput.dup(), true);
    INDArray[] py = targets(labels, z);
    INDArray scores = maskedScores(py, z, mask);
    double sum = scores.sumNumber().doubleValue();
    return new Pair<>(average ? sum / scores.size(0) : sum, maskedGradient(py, z, preOutput, activationFn, mask));
  }

  private INDArray maskedScores(INDArray[] py, INDArray z, INDArray mask) {
    INDArray score = scores(py[0], py[1], z, softLabelWeight, temperature);
    return mask == null ? score : score.muli(LossMasks.perExample(mask, score, getClass().getSimpleName()));
  }

  private INDArray maskedGradient(INDArray[] py, INDArray z, INDArray preOutput, IActivation activationFn,
      INDArray mask) {
    INDArray dLdz = gradient(py[0], py[1], z, softLabelWeight, temperature);
    if (mask != null) {
      dLdz.muliColumnVector(LossMasks.perExample(mask, dLdz, getClass().getSimpleName()));
    }
    return activationFn.backprop(preOutput.dup(), dLdz).getFirst();
  }

  /** Row-wise log-softmax of {@code z / t}. */
  private static INDArray logSoftmax(INDArray z, double t) {
    INDArray scaled = z.div(t);
    INDArray max = scaled.max(1).reshape(z.size(0), 1);
    INDArray shifted = scaled.subColumnVector(max);
    INDArray logSum = Transforms.log(Transforms.exp(shifted, true).sum(1), false).reshape(z.size(0), 1);
    return shifted.subiColumnVector(logSum);
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

  @Override
  public String name() {
    return getClass().getSimpleName() + "(alpha=" + softLabelWeight + ", T=" + temperature + ")";
  }

  @Override
  public boolean equals(Object o) {
    return o != null && o.getClass() == getClass() && ((SoftTargetLoss) o).softLabelWeight == softLabelWeight
        && ((SoftTargetLoss) o).temperature == temperature;
  }

  @Override
  public int hashCode() {
    return Objects.hash(getClass().getName(), softLabelWeight, temperature);
  }
}
