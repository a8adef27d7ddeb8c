package io.distillery.student;

import io.distillery.tokenizer.Tokenizer;
import io.distillery.util.Hashing;
import io.distillery.util.JvmShared;
import java.io.Serializable;
import java.util.List;
import java.util.function.Supplier;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A trained student, ready to embed: the DL4J network and vocabulary (from a {@link StudentArtifact}) and the
 * teacher's tokenizer. One per executor JVM per model ({@link #shared}). {@code output} is synchronised because a DL4J
 * network is not thread-safe.
 */
public final class StudentModel implements AutoCloseable {
  private final MultiLayerNetwork network;
  private final FoldedStudent folded;
  private final StudentInputs inputs;
  private final Tokenizer tokenizer;

  private StudentModel(StudentArtifact artifact, Tokenizer tokenizer, int maxTokens) {
    this.network = artifact.network();
    this.folded = FoldedStudent.fold(network);
    this.tokenizer = tokenizer;
    this.inputs = new StudentInputs(tokenizer, artifact.vocabulary(), maxTokens, artifact.knownWords());
  }

  /** Key of a model in the JVM cache: the model's content, not its path. */
  public record Spec(String modelSha256, String tokenizer, int teacherMaxTokens, int maxTokens)
      implements Serializable {}

  public static StudentModel shared(Spec spec, Supplier<byte[]> modelBytes) {
    return JvmShared.get(spec, () -> load(modelBytes.get(), spec));
  }

  public static StudentModel load(byte[] modelBytes, Spec spec) {
    String sha = Hashing.sha256Hex(modelBytes);
    if (!sha.equals(spec.modelSha256())) {
      throw new IllegalStateException("Student model bytes have sha256 " + sha + ", expected " + spec.modelSha256());
    }
    return new StudentModel(StudentArtifact.fromBytes(modelBytes),
        Tokenizer.open(spec.tokenizer(), spec.teacherMaxTokens()), spec.maxTokens());
  }

  /** L2-normalised student embeddings of {@code texts}, in order, from the folded student (thread-safe). */
  public float[][] embed(List<String> texts) {
    float[][] out = new float[texts.size()][];
    for (int i = 0; i < out.length; i++) {
      out[i] = folded.embed(inputs.rows(texts.get(i)));
    }
    return out;
  }

  /** The same embeddings computed by the DL4J network itself (the reference the folded student must match). */
  public float[][] embedWithNetwork(List<String> texts) {
    INDArray[] f = inputs.features(texts);
    INDArray out;
    synchronized (network) {
      out = network.output(f[0], false, f[1], null);
    }
    float[][] rows = out.toFloatMatrix();
    for (float[] row : rows) {
      double norm = 0;
      for (float v : row) {
        norm += v * v;
      }
      float inv = (float) (1.0 / Math.max(Math.sqrt(norm), 1e-12));
      for (int d = 0; d < row.length; d++) {
        row[d] *= inv;
      }
    }
    return rows;
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
