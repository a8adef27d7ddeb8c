package io.distillery.student;

import java.util.Arrays;

/**
 * A teacher's distribution over all classes from its top k: the k known probabilities, the rest of the mass spread
 * evenly over the other classes (a teacher that answers with its top k says nothing more), all softened at a
 * temperature T (p^(1/T), renormalised) as Hinton et al. soften the teacher's logits.
 */
public final class SoftTargets {
  private SoftTargets() {}

  /**
   * @param ids the top classes, distinct, in [0, classes)
   * @param probabilities their probabilities (negative ones read as 0)
   */
  public static float[] of(int[] ids, double[] probabilities, int classes, double temperature) {
    float[] out = new float[classes];
    into(ids, probabilities, classes, temperature, out, 0);
    return out;
  }

  /** {@link #of}, written to {@code out[offset, offset + classes)}: a batch's targets fill one array. */
  public static void into(int[] ids, double[] probabilities, int classes, double temperature, float[] out,
      int offset) {
    double kept = 0;
    for (int i = 0; i < ids.length; i++) {
      kept += Math.max(0, probabilities[i]);
    }
    int others = classes - ids.length;
    double rest = others > 0 ? Math.max(0, 1 - kept) / others : 0;
    double restSoft = soften(rest, temperature);
    double sum = restSoft * others;
    double[] soft = new double[ids.length];
    for (int i = 0; i < ids.length; i++) {
      soft[i] = soften(Math.max(0, probabilities[i]), temperature);
      sum += soft[i];
    }
    if (!(sum > 0)) {
      throw new IllegalArgumentException("the teacher's answer has no probability mass");
    }
    Arrays.fill(out, offset, offset + classes, (float) (restSoft / sum));
    for (int i = 0; i < ids.length; i++) {
      out[offset + ids[i]] = (float) (soft[i] / sum);
    }
  }

  private static double soften(double p, double temperature) {
    return p > 0 ? Math.exp(Math.log(p) / temperature) : 0;
  }
}
