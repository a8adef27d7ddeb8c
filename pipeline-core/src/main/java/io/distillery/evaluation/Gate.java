package io.distillery.evaluation;

import io.distillery.settings.Settings;
import java.util.ArrayList;
import java.util.List;

/**
 * The promotion gate: a student is promoted only if every threshold its task names holds and, when a student is
 * promoted already, none of those metrics is worse than the promoted student's on the same held-out rows by more
 * than evaluate.gate.max-regression.
 */
public record Gate(boolean passed, List<String> failures) {

  public static final String MEAN_COSINE = "mean_cosine";
  public static final String NEIGHBOUR_RECALL = "neighbour_recall";
  public static final String TOP1_AGREEMENT = "top1_agreement";

  public static final String PERPLEXITY_RATIO = "perplexity_ratio";

  /** A metric that must be at least, or (atMost) at most, {@code limit}. */
  public record Threshold(String metric, double limit, boolean atMost, String description) {
    public static Threshold atLeast(String metric, double min, String description) {
      return new Threshold(metric, min, false, description);
    }

    public static Threshold atMost(String metric, double max, String description) {
      return new Threshold(metric, max, true, description);
    }

    boolean holds(double actual) {
      return atMost ? actual <= limit : actual >= limit;
    }

    /** How much worse {@code actual} is than {@code before}, as a fraction of {@code before} (negative: better). */
    double regression(double actual, double before) {
      double worse = atMost ? actual - before : before - actual;
      return worse / Math.abs(before);
    }
  }

  public static Gate check(List<Threshold> thresholds, EvaluationResult result) {
    List<String> failures = new ArrayList<>();
    for (Threshold t : thresholds) {
      double actual = result.metric(t.metric());
      if (!t.holds(actual)) {
        failures.add(String.format("%s %.4f is %s the gate's %.4f", t.description(), actual,
            t.atMost() ? "above" : "below", t.limit()));
      }
    }
    return new Gate(failures.isEmpty(), List.copyOf(failures));
  }

  /**
   * The candidate against the promoted student (of run {@code promotedRun}), both scored on the same held-out rows:
   * each gated metric may be worse than the promoted student's by at most {@code maxRegression} of its value.
   */
  public static Gate againstPromoted(List<Threshold> thresholds, EvaluationResult candidate,
      EvaluationResult promoted, String promotedRun, double maxRegression) {
    List<String> failures = new ArrayList<>();
    for (Threshold t : thresholds) {
      double actual = candidate.metric(t.metric());
      double before = promoted.metric(t.metric());
      double regression = t.regression(actual, before);
      if (regression > maxRegression) {
        failures.add(String.format("%s %.4f is worse than the promoted student's %.4f (run '%s') by %.2f%%, more "
            + "than %s = %.2f%%", t.description(), actual, before, promotedRun, 100 * regression,
            Settings.Gate.MAX_REGRESSION.path(), 100 * maxRegression));
      }
    }
    return new Gate(failures.isEmpty(), List.copyOf(failures));
  }

  /** Both gates: passed if both passed, with the failures of each. */
  public Gate and(Gate other) {
    List<String> all = new ArrayList<>(failures);
    all.addAll(other.failures);
    return new Gate(passed && other.passed, List.copyOf(all));
  }
}
