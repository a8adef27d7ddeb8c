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
  // Both stored as the precision asks (RowTable): the row sum reads about 25 rows a sentence, the head about half its
  // units' output weights.
  private final RowTable table; // per student row: the linear path's output (dim), then the units' input (hidden)
  private final float[] bias; // dim + hidden
  private final RowTable unitsOut; // per hidden unit: its output weights (dim)
  private final int dim;
  private final int hidden;

  private FoldedStudent(INDArray table, INDArray bias, INDArray unitsOut, int dim, int hidden,
      RowTable.Precision precision) {
    this.table = RowTable.of(table.toFloatMatrix(), precision);
    this.bias = bias.dup('c').data().asFloat();
    this.unitsOut = RowTable.of(hidden == 0 ? new float[0][] : unitsOut.toFloatMatrix(), precision);
    this.dim = dim;
    this.hidden = hidden;
  }

  /** The network folded, its rows in bfloat16 (the inference default: {@link RowTable}). */
  public static FoldedStudent fold(MultiLayerNetwork net) {
    return fold(net, RowTable.Precision.BF16);
  }

  static FoldedStudent fold(MultiLayerNetwork net, RowTable.Precision precision) {
    INDArray embeddings = net.getLayer(StaticEmbeddingStudent.EMBEDDING_LAYER)
        .getParam(DefaultParamInitializer.WEIGHT_KEY);
    int out = StaticEmbeddingStudent.projectionLayer(net);
    INDArray projection = net.getLayer(out).getParam(DefaultParamInitializer.WEIGHT_KEY);
    INDArray outBias = net.getLayer(out).getParam(DefaultParamInitializer.BIAS_KEY);
    int dim = (int) projection.size(1);
    if (!StaticEmbeddingStudent.hasHead(net)) {
      return new FoldedStudent(embeddings.mmul(projection), outBias, null, dim, 0, precision);
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
    return new FoldedStudent(folded, bias, units, dim, hidden, precision);
  }

  public int dimension() {
    return dim;
  }

  /** Per student row, the folded vector (dim, then hidden) as stored; for the test that keeps the earlier layout. */
  float[][] rows() {
    return stored(table);
  }

  private static float[][] stored(RowTable rows) {
    float[][] out = new float[rows.size()][];
    for (int r = 0; r < out.length; r++) {
      out[r] = rows.row(r);
    }
    return out;
  }

  float[] bias() {
    return bias;
  }

  /** Per hidden unit, its output weights (dim). */
  float[][] unitsOut() {
    return stored(unitsOut);
  }

  /**
   * The L2-normalised embedding of a sentence given as student rows (at least one): the rows' mean through the
   * linear path, plus the output weights of the hidden units it activates, each times its activation.
   */
  public float[] embed(int[] rows) {
    float[] sum = new float[dim + hidden];
    table.addRows(rows, sum);
    float inv = 1f / rows.length;
    float[] out = new float[dim];
    for (int d = 0; d < dim; d++) {
      out[d] = sum[d] * inv + bias[d];
    }
    int[] units = new int[hidden];
    float[] activations = new float[hidden];
    int active = 0;
    for (int u = 0; u < hidden; u++) {
      float activation = sum[dim + u] * inv + bias[dim + u];
      if (activation > 0) {
        units[active] = u;
        activations[active++] = activation;
      }
    }
    unitsOut.addScaled(units, activations, active, out);
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
