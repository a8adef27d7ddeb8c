package io.distillery.student;

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
    double[] p = new double[classes];
    boolean[] top = new boolean[classes];
    double kept = 0;
    for (int i = 0; i < ids.length; i++) {
      p[ids[i]] = Math.max(0, probabilities[i]);
      top[ids[i]] = true;
      kept += p[ids[i]];
    }
    int others = classes - ids.length;
    double rest = others > 0 ? Math.max(0, 1 - kept) / others : 0;
    double sum = 0;
    for (int c = 0; c < classes; c++) {
      double v = top[c] ? p[c] : rest;
      p[c] = v > 0 ? Math.exp(Math.log(v) / temperature) : 0;
      sum += p[c];
    }
    if (!(sum > 0)) {
      throw new IllegalArgumentException("the teacher's answer has no probability mass");
    }
    float[] out = new float[classes];
    for (int c = 0; c < classes; c++) {
      out[c] = (float) (p[c] / sum);
    }
    return out;
  }
}
