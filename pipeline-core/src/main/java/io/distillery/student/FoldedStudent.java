package io.distillery.student;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The static-embedding student folded for inference. Mean pooling and the linear maps after it commute, so
 * {@code mean_t(E[t]) * W + b == mean_t((E * W)[t]) + b}: projecting the table once gives one vector per token in
 * the teacher's space, and a sentence costs one row sum. With the residual head, the table is folded into the
 * linear path's output and the hidden units' input alike; per sentence only the hidden units' output weights
 * ({@code hidden x dim}) are applied. Same function as the DL4J network (the tests compare them), without
 * per-batch tensor reshapes.
 */
public final class FoldedStudent {
  // One array per row, not one flat array: C2 vectorises `sum[d] += row[d]` but not `sum[d] += table[offset + d]`,
  // which it cannot tell from a loop-carried dependence (bench/README.md).
  private final float[][] table; // per student row: the linear path's output (dim), then the units' input (hidden)
  private final float[] bias; // dim + hidden
  private final float[][] unitsOut; // per hidden unit: its output weights (dim)
  private final int dim;
  private final int hidden;

  private FoldedStudent(INDArray table, INDArray bias, INDArray unitsOut, int dim, int hidden) {
    this.table = table.toFloatMatrix();
    this.bias = bias.dup('c').data().asFloat();
    this.unitsOut = hidden == 0 ? new float[0][] : unitsOut.toFloatMatrix();
    this.dim = dim;
    this.hidden = hidden;
  }

  public static FoldedStudent fold(MultiLayerNetwork net) {
    INDArray embeddings = net.getLayer(StaticEmbeddingStudent.EMBEDDING_LAYER)
        .getParam(DefaultParamInitializer.WEIGHT_KEY);
    int out = StaticEmbeddingStudent.projectionLayer(net);
    INDArray projection = net.getLayer(out).getParam(DefaultParamInitializer.WEIGHT_KEY);
    INDArray outBias = net.getLayer(out).getParam(DefaultParamInitializer.BIAS_KEY);
    int dim = (int) projection.size(1);
    if (!StaticEmbeddingStudent.hasHead(net)) {
      return new FoldedStudent(embeddings.mmul(projection), outBias, null, dim, 0);
    }
    int headLayer = StaticEmbeddingStudent.headLayer(net);
    INDArray head = net.getLayer(headLayer).getParam(DefaultParamInitializer.WEIGHT_KEY);
    INDArray headBias = net.getLayer(headLayer).getParam(DefaultParamInitializer.BIAS_KEY)
        .reshape(1, head.size(1));
    int hidden = (int) (head.size(1) - dim);
    INDArray linearOut = projection.get(NDArrayIndex.interval(0, dim), NDArrayIndex.all());
    INDArray units = projection.get(NDArrayIndex.interval(dim, dim + hidden), NDArrayIndex.all());
    INDArray linearIn = head.get(NDArrayIndex.all(), NDArrayIndex.interval(0, dim));
    INDArray unitsIn = head.get(NDArrayIndex.all(), NDArrayIndex.interval(dim, dim + hidden));
    // Linear path: mean(E) * Wl * Pl + bl * Pl + b; units: relu(mean(E) * Wu + bu) * Pu.
    INDArray linear = embeddings.mmul(linearIn).mmul(linearOut);
    INDArray unitsInput = embeddings.mmul(unitsIn);
    INDArray folded = Nd4j.hstack(linear, unitsInput);
    INDArray bias = Nd4j.hstack(
        headBias.get(NDArrayIndex.all(), NDArrayIndex.interval(0, dim)).mmul(linearOut).addRowVector(outBias),
        headBias.get(NDArrayIndex.all(), NDArrayIndex.interval(dim, dim + hidden)));
    return new FoldedStudent(folded, bias, units, dim, hidden);
  }

  public int dimension() {
    return dim;
  }

  /** Per student row, the folded vector (dim, then hidden); for the test that keeps the earlier layout. */
  float[][] rows() {
    return table;
  }

  float[] bias() {
    return bias;
  }

  /** Per hidden unit, its output weights (dim). */
  float[][] unitsOut() {
    return unitsOut;
  }

  /**
   * The L2-normalised embedding of a sentence given as student rows (at least one). Rows are summed four at a time and
   * active units applied two at a time: each pass over {@code sum} or {@code out} loads and stores it once, and with
   * one row or unit per pass those loads and stores, not the adds, bound the loop (bench/README.md).
   */
  public float[] embed(int[] rows) {
    int width = dim + hidden;
    float[] sum = new float[width];
    int r = 0;
    for (; r + 4 <= rows.length; r += 4) {
      float[] a = table[rows[r]];
      float[] b = table[rows[r + 1]];
      float[] c = table[rows[r + 2]];
      float[] e = table[rows[r + 3]];
      for (int d = 0; d < width; d++) {
        sum[d] += (a[d] + b[d]) + (c[d] + e[d]);
      }
    }
    for (; r < rows.length; r++) {
      float[] row = table[rows[r]];
      for (int d = 0; d < width; d++) {
        sum[d] += row[d];
      }
    }
    float inv = 1f / rows.length;
    float[] out = new float[dim];
    for (int d = 0; d < dim; d++) {
      out[d] = sum[d] * inv + bias[d];
    }
    float[][] weights = new float[hidden][];
    float[] activations = new float[hidden];
    int active = 0;
    for (int u = 0; u < hidden; u++) {
      float activation = sum[dim + u] * inv + bias[dim + u];
      if (activation > 0) {
        weights[active] = unitsOut[u];
        activations[active++] = activation;
      }
    }
    int u = 0;
    for (; u + 2 <= active; u += 2) {
      float a = activations[u];
      float b = activations[u + 1];
      float[] wa = weights[u];
      float[] wb = weights[u + 1];
      for (int d = 0; d < dim; d++) {
        out[d] += a * wa[d] + b * wb[d];
      }
    }
    if (u < active) {
      float a = activations[u];
      float[] wa = weights[u];
      for (int d = 0; d < dim; d++) {
        out[d] += a * wa[d];
      }
    }
    return normalised(out);
  }

  /**
   * {@code v} scaled to unit L2 norm, in place. Four partial sums: one running sum is a chain of dependent adds that
   * C2 may not reorder, four latencies long per element.
   */
  static float[] normalised(float[] v) {
    double a = 0;
    double b = 0;
    double c = 0;
    double e = 0;
    int d = 0;
    for (; d + 4 <= v.length; d += 4) {
      a += v[d] * v[d];
      b += v[d + 1] * v[d + 1];
      c += v[d + 2] * v[d + 2];
      e += v[d + 3] * v[d + 3];
    }
    for (; d < v.length; d++) {
      a += v[d] * v[d];
    }
    double norm = (a + b) + (c + e);
    float scale = (float) (1.0 / Math.max(Math.sqrt(norm), 1e-12));
    for (int i = 0; i < v.length; i++) {
      v[i] *= scale;
    }
    return v;
  }
}
