package io.distillery.student;

import io.distillery.tokenizer.Tokenizer;
import java.util.List;

/**
 * The embed student's inference path as it was before the word-row cache and the per-row table (6b51d8d): the
 * tokenizer's ids for the whole text with a vocabulary lookup per token ({@link StudentInputs#referenceRows}), then
 * the folded sum over one flat row-major table, which C2 does not vectorise. The same function as
 * {@link StudentModel#embed}; the baseline bench/run.sh times it against.
 */
public final class EarlierStudentPath {
  private final StudentInputs inputs;
  private final float[] table;
  private final float[] bias;
  private final float[] unitsOut;
  private final int dim;
  private final int hidden;

  public EarlierStudentPath(byte[] modelBytes, Tokenizer tokenizer, int maxTokens) {
    StudentArtifact artifact = StudentArtifact.fromBytes(modelBytes);
    FoldedStudent folded = FoldedStudent.fold(artifact.network(), RowTable.Precision.FLOAT);
    this.inputs = new StudentInputs(tokenizer, artifact.vocabulary(), maxTokens, List.of());
    this.dim = folded.dimension();
    this.hidden = folded.rows()[0].length - dim;
    this.table = flat(folded.rows());
    this.bias = folded.bias();
    this.unitsOut = flat(folded.unitsOut());
  }

  private static float[] flat(float[][] rows) {
    int width = rows.length == 0 ? 0 : rows[0].length;
    float[] flat = new float[rows.length * width];
    for (int r = 0; r < rows.length; r++) {
      System.arraycopy(rows[r], 0, flat, r * width, width);
    }
    return flat;
  }

  public float[][] embed(List<String> texts) {
    float[][] out = new float[texts.size()][];
    for (int i = 0; i < out.length; i++) {
      out[i] = embed(inputs.referenceRows(texts.get(i)));
    }
    return out;
  }

  private float[] embed(int[] rows) {
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
    return FoldedStudent.normalised(out);
  }
}
