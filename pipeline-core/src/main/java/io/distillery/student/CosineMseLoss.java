package io.distillery.student;

import java.util.Objects;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Embedding distillation loss, per example:
 * {@code cosineWeight * (1 - cos(y, t)) + mseWeight * mean_d (y_d - t_d)^2}, with y the student's output
 * and t the teacher's embedding. Analytic gradient (checked against finite differences in the tests).
 * Immutable and Jackson-serializable, because Spark ships the network configuration as JSON.
 */
public final class CosineMseLoss extends PerExampleLoss {
  private static final double EPS = 1e-8;

  @JsonProperty("cosineWeight")
  private final double cosineWeight;

  @JsonProperty("mseWeight")
  private final double mseWeight;

  @JsonCreator
  public CosineMseLoss(@JsonProperty("cosineWeight") double cosineWeight,
      @JsonProperty("mseWeight") double mseWeight) {
    if (cosineWeight < 0 || mseWeight < 0 || cosineWeight + mseWeight == 0) {
      throw new IllegalArgumentException("loss weights must be >= 0 and not both 0: cosine=" + cosineWeight
          + ", mse=" + mseWeight);
    }
    this.cosineWeight = cosineWeight;
    this.mseWeight = mseWeight;
  }

  public double cosineWeight() {
    return cosineWeight;
  }

  public double mseWeight() {
    return mseWeight;
  }

  @Override
  public INDArray computeScoreArray(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
    INDArray y = activationFn.getActivation(preOutput.dup(), true);
    INDArray score = rowCosine(y, labels).rsubi(1.0).muli(cosineWeight);
    if (mseWeight > 0) {
      INDArray diff = y.sub(labels);
      score.addi(diff.muli(diff).mean(1).reshape(y.size(0), 1).muli(mseWeight));
    }
    return mask == null ? score : score.muli(LossMasks.perExample(mask, labels, "CosineMseLoss"));
  }

  @Override
  public INDArray computeGradient(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
    INDArray y = activationFn.getActivation(preOutput.dup(), true);
    long dim = y.size(1);
    INDArray yNorm = rowNorm(y);
    INDArray tNorm = rowNorm(labels);
    INDArray cos = rowCosine(y, labels);
    // d(1 - cos)/dy = -(t / (|y||t|) - cos * y / |y|^2)
    INDArray dCos = labels.divColumnVector(yNorm.mul(tNorm)).subi(y.mulColumnVector(cos.div(yNorm.mul(yNorm))));
    INDArray dLdy = dCos.muli(-cosineWeight);
    if (mseWeight > 0) {
      dLdy.addi(y.sub(labels).muli(2.0 * mseWeight / dim));
    }
    if (mask != null) {
      dLdy.muliColumnVector(LossMasks.perExample(mask, labels, "CosineMseLoss"));
    }
    return activationFn.backprop(preOutput.dup(), dLdy).getFirst();
  }

  /** Column vector [batch, 1] of L2 norms (never 0). */
  private static INDArray rowNorm(INDArray m) {
    return m.norm2(1).reshape(m.size(0), 1).addi(EPS);
  }

  /** Column vector [batch, 1] of cos(y_i, t_i). */
  private static INDArray rowCosine(INDArray y, INDArray t) {
    return y.mul(t).sum(1).reshape(y.size(0), 1).divi(rowNorm(y)).divi(rowNorm(t));
  }

  @Override
  public String name() {
    return "CosineMseLoss(cosine=" + cosineWeight + ", mse=" + mseWeight + ")";
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CosineMseLoss other && other.cosineWeight == cosineWeight && other.mseWeight == mseWeight;
  }

  @Override
  public int hashCode() {
    return Objects.hash(cosineWeight, mseWeight);
  }
}
