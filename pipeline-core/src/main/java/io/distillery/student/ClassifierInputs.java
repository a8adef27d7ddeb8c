package io.distillery.student;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.distillery.settings.Settings;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * What turns a text into the classify student's input, and a teacher's answer into its targets: hashed
 * character n-grams (lower-cased text, cut to {@code maxChars}, a space added at each end, every n-gram of
 * length min..max hashed with 32-bit FNV-1a into {@code buckets} rows), and the label vocabulary (the teacher's).
 * Saved inside the student's artifact, so a trained student reads text the way it was trained.
 */
public record ClassifierInputs(Settings.CharNgrams ngrams, List<String> labels) implements Serializable {
  private static final ObjectMapper JSON = new ObjectMapper();

  public ClassifierInputs {
    labels = List.copyOf(labels);
    if (labels.size() < 2) {
      throw new IllegalArgumentException("a classifier needs at least 2 labels, got " + labels);
    }
  }

  /** Input length: the most n-gram ids any text can have (shorter texts are padded and masked). */
  public int length() {
    int padded = ngrams.maxChars() + 2;
    int total = 0;
    for (int n = ngrams.min(); n <= ngrams.max(); n++) {
      total += Math.max(0, padded - n + 1);
    }
    return total;
  }

  /** The n-gram table rows of a text, one per n-gram occurrence (at least one: the padding). */
  public int[] ids(String text) {
    String lower = text.toLowerCase(Locale.ROOT);
    String t = " " + (lower.length() > ngrams.maxChars() ? lower.substring(0, ngrams.maxChars()) : lower) + " ";
    int[] out = new int[length()];
    int count = 0;
    for (int n = ngrams.min(); n <= ngrams.max(); n++) {
      for (int start = 0; start + n <= t.length(); start++) {
        int h = 0x811C9DC5;
        for (int i = start; i < start + n; i++) {
          h = (h ^ t.charAt(i)) * 0x01000193;
        }
        out[count++] = Math.floorMod(h, ngrams.buckets());
      }
    }
    return Arrays.copyOf(out, count);
  }

  public int labelIndex(String label) {
    int i = labels.indexOf(label);
    if (i < 0) {
      throw new IllegalArgumentException("label '" + label + "' is not in the teacher's label vocabulary of "
          + labels.size() + " labels (" + String.join(", ", labels.subList(0, Math.min(12, labels.size())))
          + (labels.size() > 12 ? ", ..." : "") + ")");
    }
    return i;
  }

  /**
   * The teacher's distribution over all labels from its top-k answer (the mass left over spread evenly over the
   * other labels), softened at temperature T: q_i proportional to p_i^(1/T).
   */
  public float[] softTargets(List<String> topLabels, List<Float> topProbabilities, double temperature) {
    int[] ids = new int[topLabels.size()];
    double[] p = new double[ids.length];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = labelIndex(topLabels.get(i));
      p[i] = topProbabilities.get(i);
    }
    try {
      return SoftTargets.of(ids, p, labels.size(), temperature);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(e.getMessage() + ": " + topLabels + " " + topProbabilities, e);
    }
  }

  /** Features [n, length] (n-gram rows as floats) and mask [n, length] for a batch of texts. */
  public INDArray[] features(List<String> texts) {
    int length = length();
    float[][] ids = new float[texts.size()][length];
    float[][] mask = new float[texts.size()][length];
    for (int i = 0; i < texts.size(); i++) {
      int[] rows = ids(texts.get(i));
      for (int t = 0; t < rows.length; t++) {
        ids[i][t] = rows[t];
        mask[i][t] = 1;
      }
    }
    return new INDArray[] {Nd4j.createFromArray(ids), Nd4j.createFromArray(mask)};
  }

  /**
   * A one-example training DataSet. Labels are [1, 2 * labels]: the soft targets, then the hard label one-hot
   * (the layout {@link KnowledgeDistillationLoss} reads).
   */
  public DataSet example(String text, float[] softTargets, int hardLabel) {
    INDArray[] f = features(List.of(text));
    float[] label = new float[2 * labels.size()];
    System.arraycopy(softTargets, 0, label, 0, labels.size());
    label[labels.size() + hardLabel] = 1;
    return new DataSet(f[0], Nd4j.create(label, new long[] {1, label.length}, DataType.FLOAT), f[1], null);
  }

  public byte[] toJson() {
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(this);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static ClassifierInputs fromJson(byte[] json) {
    try {
      return JSON.readValue(json, ClassifierInputs.class);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read the classifier's input spec", e);
    }
  }
}
