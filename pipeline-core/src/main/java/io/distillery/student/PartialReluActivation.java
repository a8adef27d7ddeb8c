package io.distillery.student;

import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.BaseActivationFunction;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Identity on the first {@code linearUnits} columns, ReLU on the rest. A dense layer with it carries a linear path
 * and a hidden ReLU layer side by side, so a sequential network can hold a residual head: the next layer adds the
 * linear path's projection and the hidden units' correction. Immutable and Jackson-serializable (Spark ships the
 * network configuration as JSON).
 */
public final class PartialReluActivation extends BaseActivationFunction {
  @JsonProperty("linearUnits")
  private final int linearUnits;

  @JsonCreator
  public PartialReluActivation(@JsonProperty("linearUnits") int linearUnits) {
    if (linearUnits < 0) {
      throw new IllegalArgumentException("linearUnits must be >= 0, was " + linearUnits);
    }
    this.linearUnits = linearUnits;
  }

  public int linearUnits() {
    return linearUnits;
  }

  @Override
  public INDArray getActivation(INDArray in, boolean training) {
    INDArray hidden = hidden(in);
    if (hidden != null) {
      hidden.assign(Transforms.relu(hidden, true));
    }
    return in;
  }

  @Override
  public Pair<INDArray, INDArray> backprop(INDArray in, INDArray epsilon) {
    assertShape(in, epsilon);
    INDArray gradient = epsilon.dup();
    INDArray hidden = hidden(in);
    if (hidden != null) {
      hidden(gradient).muli(hidden.gt(0).castTo(gradient.dataType()));
    }
    return new Pair<>(gradient, null);
  }

  /** A view of the ReLU columns; null if there are none. */
  private INDArray hidden(INDArray in) {
    long columns = in.size(1);
    return columns <= linearUnits ? null : in.get(NDArrayIndex.all(), NDArrayIndex.interval(linearUnits, columns));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PartialReluActivation p && p.linearUnits == linearUnits;
  }

  @Override
  public int hashCode() {
    return Integer.hashCode(linearUnits);
  }

  @Override
  public String toString() {
    return "partialrelu(" + linearUnits + ")";
  }
}
