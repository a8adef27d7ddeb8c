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
  private final float[] table; // rows x (dim + hidden), row-major: the linear path's output, then the units' input
  private final float[] bias; // dim + hidden
  private final float[] unitsOut; // hidden x dim, row-major
  private final int dim;
  private final int hidden;

  private FoldedStudent(float[] table, float[] bias, float[] unitsOut, int dim, int hidden) {
    this.table = table;
    this.bias = bias;
    this.unitsOut = unitsOut;
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
      return new FoldedStudent(embeddings.mmul(projection).dup('c').data().asFloat(),
          outBias.dup().data().asFloat(), new float[0], dim, 0);
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
    return new FoldedStudent(folded.dup('c').data().asFloat(), bias.dup('c').data().asFloat(),
        units.dup('c').data().asFloat(), dim, hidden);
  }

  public int dimension() {
    return dim;
  }

  /** The L2-normalised embedding of a sentence given as student rows (at least one). */
  public float[] embed(int[] rows) {
    int width = dim + hidden;
    float[] sum = new float[width];
    for (int r : rows) {
      int offset = r * width;
      for (int d = 0; d < width; d++) {
        sum[d] += table[offset + d];
      }
    }
    float inv = 1f / rows.length;
    float[] out = new float[dim];
    for (int d = 0; d < dim; d++) {
      out[d] = sum[d] * inv + bias[d];
    }
    for (int u = 0; u < hidden; u++) {
      float activation = sum[dim + u] * inv + bias[dim + u];
      if (activation > 0) {
        int offset = u * dim;
        for (int d = 0; d < dim; d++) {
          out[d] += activation * unitsOut[offset + d];
        }
      }
    }
    double norm = 0;
    for (int d = 0; d < dim; d++) {
      norm += out[d] * out[d];
    }
    float scale = (float) (1.0 / Math.max(Math.sqrt(norm), 1e-12));
    for (int d = 0; d < dim; d++) {
      out[d] *= scale;
    }
    return out;
  }
}
