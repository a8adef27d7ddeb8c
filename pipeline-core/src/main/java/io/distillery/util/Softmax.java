package io.distillery.util;

import java.util.Arrays;

/**
 * Softmax over plain arrays, shifted by the maximum so that large logits do not overflow. StrictMath, not Math:
 * Math.exp may give a different last bit once the JIT compiles a caller, which flips near-ties in a language model's
 * greedy or seeded continuation; StrictMath is the same in every JVM and at every tier.
 */
public final class Softmax {
  private Softmax() {}

  /** Softmax of the first {@code n} values, in place (the sum in float, as llama2.c's reference does). */
  public static void inPlace(float[] x, int n) {
    float max = x[0];
    for (int i = 1; i < n; i++) {
      max = Math.max(max, x[i]);
    }
    float sum = 0;
    for (int i = 0; i < n; i++) {
      x[i] = (float) StrictMath.exp(x[i] - max);
      sum += x[i];
    }
    for (int i = 0; i < n; i++) {
      x[i] /= sum;
    }
  }

  /** The probabilities of {@code logits}, in a new array. */
  public static float[] of(float[] logits) {
    float[] p = Arrays.copyOf(logits, logits.length);
    inPlace(p, p.length);
    return p;
  }

  /** The log-probabilities of {@code logits}, in a new array. */
  public static float[] log(float[] logits) {
    float max = Float.NEGATIVE_INFINITY;
    for (float v : logits) {
      max = Math.max(max, v);
    }
    double sum = 0;
    for (float v : logits) {
      sum += StrictMath.exp(v - max);
    }
    float logSum = (float) (max + StrictMath.log(sum));
    float[] out = new float[logits.length];
    for (int i = 0; i < logits.length; i++) {
      out[i] = logits[i] - logSum;
    }
    return out;
  }
}
