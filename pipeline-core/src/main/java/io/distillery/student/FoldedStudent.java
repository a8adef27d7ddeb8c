package io.distillery.student;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The static-embedding student folded for inference. Mean pooling and the projection are both linear, so
 * {@code mean_t(E[t]) * W + b == mean_t((E * W)[t]) + b}: projecting the table once gives one vector per
 * token in the teacher's space, and a sentence costs one row sum. Same function as the DL4J network (the
 * tests compare them), without per-batch tensor reshapes.
 */
public final class FoldedStudent {
  private final float[] table; // rows x dim, row-major
  private final float[] bias;
  private final int dim;

  private FoldedStudent(float[] table, float[] bias, int dim) {
    this.table = table;
    this.bias = bias;
    this.dim = dim;
  }

  public static FoldedStudent fold(MultiLayerNetwork net) {
    INDArray embeddings = net.getLayer(0).getParam(DefaultParamInitializer.WEIGHT_KEY);
    INDArray projection = net.getLayer(2).getParam(DefaultParamInitializer.WEIGHT_KEY);
    INDArray bias = net.getLayer(2).getParam(DefaultParamInitializer.BIAS_KEY);
    INDArray folded = embeddings.mmul(projection);
    return new FoldedStudent(folded.dup('c').data().asFloat(), bias.dup().data().asFloat(),
        (int) folded.size(1));
  }

  public int dimension() {
    return dim;
  }

  /** The L2-normalised embedding of a sentence given as student rows (at least one). */
  public float[] embed(int[] rows) {
    float[] out = new float[dim];
    for (int r : rows) {
      int offset = r * dim;
      for (int d = 0; d < dim; d++) {
        out[d] += table[offset + d];
      }
    }
    double norm = 0;
    float inv = 1f / rows.length;
    for (int d = 0; d < dim; d++) {
      out[d] = out[d] * inv + bias[d];
      norm += out[d] * out[d];
    }
    float scale = (float) (1.0 / Math.max(Math.sqrt(norm), 1e-12));
    for (int d = 0; d < dim; d++) {
      out[d] *= scale;
    }
    return out;
  }
}
