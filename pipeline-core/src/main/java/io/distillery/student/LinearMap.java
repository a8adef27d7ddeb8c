package io.distillery.student;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.inverse.InvertMatrix;

/**
 * An affine map {@code y = [x, 1] M} fitted by ridge-regularised least squares (normal equations, in double
 * precision). Used to carry a token's vector seen alone into the space of its vectors in context.
 */
final class LinearMap {
  /** Ridge term, relative to the mean diagonal of X^T X: enough to keep the solve stable, too small to bias it. */
  private static final double RIDGE = 1e-6;

  private final float[][] weights; // (in + 1) x out, the last row the bias

  private LinearMap(float[][] weights) {
    this.weights = weights;
  }

  float[] apply(float[] x) {
    int out = weights[0].length;
    float[] y = weights[x.length].clone();
    for (int i = 0; i < x.length; i++) {
      float xi = x[i];
      float[] row = weights[i];
      for (int j = 0; j < out; j++) {
        y[j] += xi * row[j];
      }
    }
    return y;
  }

  /** Pairs (x, y) to fit on. */
  static final class Fit {
    private final int in;
    private final int out;
    private final List<float[]> xs = new ArrayList<>();
    private final List<float[]> ys = new ArrayList<>();

    Fit(int in, int out) {
      this.in = in;
      this.out = out;
    }

    void add(float[] x, float[] y) {
      if (x.length != in || y.length != out) {
        throw new IllegalArgumentException("pair of dimensions " + x.length + " -> " + y.length + ", expected "
            + in + " -> " + out);
      }
      xs.add(x);
      ys.add(y);
    }

    /** The least-squares map; empty with fewer pairs than unknowns per output (in + 1). */
    Optional<LinearMap> solve() {
      int n = xs.size();
      if (n < in + 1) {
        return Optional.empty();
      }
      INDArray x = Nd4j.create(DataType.DOUBLE, n, in + 1);
      INDArray y = Nd4j.create(DataType.DOUBLE, n, out);
      for (int r = 0; r < n; r++) {
        double[] row = new double[in + 1];
        float[] xr = xs.get(r);
        for (int i = 0; i < in; i++) {
          row[i] = xr[i];
        }
        row[in] = 1;
        x.putRow(r, Nd4j.createFromArray(row));
        y.putRow(r, Nd4j.createFromArray(ys.get(r)).castTo(DataType.DOUBLE));
      }
      INDArray xtx = x.transpose().mmul(x);
      double trace = 0;
      for (int i = 0; i <= in; i++) {
        trace += xtx.getDouble(i, i);
      }
      double ridge = RIDGE * trace / (in + 1);
      xtx.addi(Nd4j.eye(in + 1).castTo(DataType.DOUBLE).muli(ridge));
      INDArray m = InvertMatrix.invert(xtx, false).mmul(x.transpose().mmul(y));
      float[][] weights = new float[in + 1][];
      for (int i = 0; i <= in; i++) {
        weights[i] = m.getRow(i).toFloatVector();
      }
      return Optional.of(new LinearMap(weights));
    }
  }
}
