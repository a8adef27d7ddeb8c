package io.distillery.student;

import io.distillery.util.Hashing;
import io.distillery.util.JvmShared;
import io.distillery.util.Softmax;
import java.io.Serializable;
import java.util.List;
import java.util.function.Supplier;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A trained classify student, ready to predict: its weights copied out of the DL4J network into plain arrays
 * (n-gram table, hidden layer, output layer), so a text costs one pass over its n-grams and two small matrix
 * products, thread-safe and free of per-batch tensor overhead. Same function as the network (the tests compare
 * them). One per executor JVM per model ({@link #shared}).
 */
public final class ClassifierModel {
  private final MultiLayerNetwork network;
  private final ClassifierInputs inputs;
  private final float[] table; // buckets x width
  private final int width;
  private final Dense[] dense; // hidden (optional), then output

  private record Dense(float[] w, float[] b, int in, int out, boolean relu) {
    float[] apply(float[] x) {
      float[] y = b.clone();
      for (int i = 0; i < in; i++) {
        float xi = x[i];
        if (xi != 0) {
          int row = i * out;
          for (int o = 0; o < out; o++) {
            y[o] += xi * w[row + o];
          }
        }
      }
      if (relu) {
        for (int o = 0; o < out; o++) {
          y[o] = Math.max(0, y[o]);
        }
      }
      return y;
    }
  }

  /** Key of a model in the JVM cache: the model's content. */
  public record Spec(String modelSha256) implements Serializable {}

  private ClassifierModel(MultiLayerNetwork network, ClassifierInputs inputs) {
    this.network = network;
    this.inputs = inputs;
    INDArray e = network.getLayer(0).getParam(DefaultParamInitializer.WEIGHT_KEY);
    this.table = e.dup('c').data().asFloat();
    this.width = (int) e.size(1);
    int layers = network.getnLayers();
    int first = EmbeddingBag.headStart(network);
    this.dense = new Dense[layers - first];
    for (int l = first; l < layers; l++) {
      Layer layer = network.getLayer(l);
      INDArray w = layer.getParam(DefaultParamInitializer.WEIGHT_KEY);
      dense[l - first] = new Dense(w.dup('c').data().asFloat(), layer.getParam(DefaultParamInitializer.BIAS_KEY).dup()
          .data().asFloat(), (int) w.size(0), (int) w.size(1), l < layers - 1);
    }
  }

  public static ClassifierModel shared(Spec spec, Supplier<byte[]> modelBytes) {
    return JvmShared.get(spec, () -> load(modelBytes.get(), spec));
  }

  public static ClassifierModel load(byte[] modelBytes, Spec spec) {
    String sha = Hashing.sha256Hex(modelBytes);
    if (!sha.equals(spec.modelSha256())) {
      throw new IllegalStateException("Student model bytes have sha256 " + sha + ", expected " + spec.modelSha256());
    }
    return of(StudentArtifact.fromBytes(modelBytes));
  }

  public static ClassifierModel of(StudentArtifact artifact) {
    return new ClassifierModel(artifact.network(), artifact.classifierInputs());
  }

  public List<String> labels() {
    return inputs.labels();
  }

  public ClassifierInputs inputs() {
    return inputs;
  }

  /** The student's probability of each label, in {@link #labels()} order. */
  public float[] probabilities(String text) {
    int[] ids = inputs.ids(text);
    float[] x = new float[width];
    for (int id : ids) {
      int offset = id * width;
      for (int d = 0; d < width; d++) {
        x[d] += table[offset + d];
      }
    }
    float inv = 1f / ids.length;
    for (int d = 0; d < width; d++) {
      x[d] *= inv;
    }
    for (Dense layer : dense) {
      x = layer.apply(x);
    }
    return Softmax.of(x);
  }

  /** The same probabilities computed by the DL4J network itself (the reference the arrays must match). */
  public float[][] probabilitiesWithNetwork(List<String> texts) {
    INDArray[] f = inputs.features(texts);
    INDArray z;
    synchronized (network) {
      z = network.output(f[0], false, f[1], null);
    }
    float[][] rows = z.toFloatMatrix();
    for (int i = 0; i < rows.length; i++) {
      rows[i] = Softmax.of(rows[i]);
    }
    return rows;
  }
}
