package io.distillery.student;

import io.distillery.util.Hashing;
import io.distillery.util.JvmShared;
import io.distillery.util.Softmax;
import java.io.Serializable;
import java.util.function.Supplier;
import org.deeplearning4j.nn.layers.recurrent.LSTM;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.nn.params.LSTMParamInitializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A trained language-model student, ready to read and write: its weights copied out of the DL4J network into plain
 * arrays, so a token costs the LSTM's four gate products and the output layer, on any number of threads (each
 * {@link Session} holds its own state), free of per-step tensor overhead. Same function as the network (the tests
 * compare them). One per executor JVM per model ({@link #shared}).
 */
public final class LmStudentModel {
  private final MultiLayerNetwork network;
  private final LmInputs inputs;
  private final byte[] tokenizerFile;
  private final int width;
  private final int hidden;
  private final int vocab;
  private final float[] embedding; // vocab x width
  private final float[] inputWeights; // width x 4 hidden, gates in DL4J's order: block input, forget, output, input
  private final float[] recurrentWeights; // hidden x 4 hidden
  private final float[] bias; // 4 hidden
  private final float[] outputWeights; // hidden x vocab
  private final float[] outputBias; // vocab

  /** Key of a model in the JVM cache: the model's content. */
  public record Spec(String modelSha256) implements Serializable {}

  private LmStudentModel(MultiLayerNetwork network, LmInputs inputs, byte[] tokenizerFile) {
    this.network = network;
    this.inputs = inputs;
    this.tokenizerFile = tokenizerFile;
    INDArray e = network.getLayer(0).getParam(DefaultParamInitializer.WEIGHT_KEY);
    this.vocab = (int) e.size(0);
    this.width = (int) e.size(1);
    this.embedding = floats(e);
    if (!(network.getLayer(1) instanceof LSTM lstm)) {
      throw new IllegalArgumentException("not a language-model student: layer 1 is " + network.getLayer(1));
    }
    INDArray rw = lstm.getParam(LSTMParamInitializer.RECURRENT_WEIGHT_KEY);
    this.hidden = (int) rw.size(0);
    this.inputWeights = floats(lstm.getParam(LSTMParamInitializer.INPUT_WEIGHT_KEY));
    this.recurrentWeights = floats(rw);
    this.bias = floats(lstm.getParam(LSTMParamInitializer.BIAS_KEY));
    this.outputWeights = floats(network.getLayer(2).getParam(DefaultParamInitializer.WEIGHT_KEY));
    this.outputBias = floats(network.getLayer(2).getParam(DefaultParamInitializer.BIAS_KEY));
  }

  private static float[] floats(INDArray a) {
    return a.dup('c').data().asFloat();
  }

  public static LmStudentModel shared(Spec spec, Supplier<byte[]> modelBytes) {
    return JvmShared.get(spec, () -> load(modelBytes.get(), spec));
  }

  public static LmStudentModel load(byte[] modelBytes, Spec spec) {
    String sha = Hashing.sha256Hex(modelBytes);
    if (!sha.equals(spec.modelSha256())) {
      throw new IllegalStateException("Student model bytes have sha256 " + sha + ", expected " + spec.modelSha256());
    }
    return of(StudentArtifact.fromBytes(modelBytes));
  }

  public static LmStudentModel of(StudentArtifact artifact) {
    return new LmStudentModel(artifact.network(), artifact.lmInputs(), artifact.tokenizerFile());
  }

  public LmInputs inputs() {
    return inputs;
  }

  /** The tokenizer file the student was trained with (the teacher's). */
  public byte[] tokenizerFile() {
    return tokenizerFile.clone();
  }

  /** A fresh reading of a sequence: the LSTM's state, advanced one token at a time. */
  public Session session() {
    return new Session();
  }

  /** One sequence's state. Not thread-safe; the model is. */
  public final class Session {
    private float[] h = new float[hidden];
    private float[] c = new float[hidden];
    private final float[] gates = new float[4 * hidden];

    /** Reads {@code token}; answers the next token's logits. */
    public float[] next(int token) {
      if (token < 0 || token >= vocab) {
        throw new IllegalArgumentException("token " + token + " is not in the student's vocabulary of " + vocab);
      }
      int g4 = 4 * hidden;
      System.arraycopy(bias, 0, gates, 0, g4);
      int x0 = token * width;
      for (int i = 0; i < width; i++) {
        float xi = embedding[x0 + i];
        int row = i * g4;
        for (int g = 0; g < g4; g++) {
          gates[g] += xi * inputWeights[row + g];
        }
      }
      for (int i = 0; i < hidden; i++) {
        float hi = h[i];
        if (hi != 0) {
          int row = i * g4;
          for (int g = 0; g < g4; g++) {
            gates[g] += hi * recurrentWeights[row + g];
          }
        }
      }
      float[] nextH = new float[hidden];
      float[] nextC = new float[hidden];
      for (int j = 0; j < hidden; j++) {
        double blockInput = Math.tanh(gates[j]);
        double forget = sigmoid(gates[hidden + j]);
        double output = sigmoid(gates[2 * hidden + j]);
        double input = sigmoid(gates[3 * hidden + j]);
        nextC[j] = (float) (forget * c[j] + input * blockInput);
        nextH[j] = (float) (output * Math.tanh(nextC[j]));
      }
      h = nextH;
      c = nextC;
      float[] logits = outputBias.clone();
      for (int i = 0; i < hidden; i++) {
        float hi = h[i];
        int row = i * vocab;
        for (int v = 0; v < vocab; v++) {
          logits[v] += hi * outputWeights[row + v];
        }
      }
      return logits;
    }
  }

  private static double sigmoid(double x) {
    return 1 / (1 + Math.exp(-x));
  }

  /**
   * The student's log-probabilities of every vocabulary token at each completion position it was trained to
   * predict (those within {@code maxTokens} inputs), reading the prompt and then the completion.
   */
  public float[][] logprobs(int[] promptIds, int[] completion) {
    int positions = positions(promptIds, completion);
    float[][] out = new float[positions][];
    Session s = session();
    float[] logits = null;
    for (int id : promptIds) {
      logits = s.next(id);
    }
    for (int p = 0; p < positions; p++) {
      out[p] = Softmax.log(logits);
      if (p + 1 < positions) {
        logits = s.next(completion[p]);
      }
    }
    return out;
  }

  private int positions(int[] promptIds, int[] completion) {
    return Math.max(0, Math.min(completion.length, inputs.maxTokens() - promptIds.length + 1));
  }

  /** The same log-probabilities computed by the DL4J network itself (the reference the arrays must match). */
  public float[][] logprobsWithNetwork(int[] promptIds, int[] completion) {
    int positions = positions(promptIds, completion);
    int length = promptIds.length + positions - 1;
    float[] ids = new float[length];
    for (int t = 0; t < length; t++) {
      ids[t] = t < promptIds.length ? promptIds[t] : completion[t - promptIds.length];
    }
    INDArray z;
    synchronized (network) {
      z = network.output(Nd4j.createFromArray(new float[][] {ids}), false);
    }
    float[][] out = new float[positions][];
    for (int p = 0; p < positions; p++) {
      float[] logits = new float[vocab];
      for (int v = 0; v < vocab; v++) {
        logits[v] = z.getFloat(0, v, promptIds.length - 1 + p);
      }
      out[p] = Softmax.log(logits);
    }
    return out;
  }
}
