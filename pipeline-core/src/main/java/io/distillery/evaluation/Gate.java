package io.distillery.evaluation;

import java.util.ArrayList;
import java.util.List;

/** The promotion gate: a student is promoted only if every threshold its task names holds. */
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
}
