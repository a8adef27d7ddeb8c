package io.distillery.evaluation;

import java.util.ArrayList;
import java.util.List;

/** The promotion gate: a student is promoted only if every threshold its task names holds. */
public record Gate(boolean passed, List<String> failures) {

  public static final String MEAN_COSINE = "mean_cosine";
  public static final String NEIGHBOUR_RECALL = "neighbour_recall";
  public static final String TOP1_AGREEMENT = "top1_agreement";

  /** A metric that must be at least {@code min}. */
  public record Threshold(String metric, double min, String description) {}

  public static Gate check(List<Threshold> thresholds, EvaluationResult result) {
    List<String> failures = new ArrayList<>();
    for (Threshold t : thresholds) {
      double actual = result.metric(t.metric());
      if (!(actual >= t.min())) {
        failures.add(String.format("%s %.4f is below the gate's %.4f", t.description(), actual, t.min()));
      }
    }
    return new Gate(failures.isEmpty(), List.copyOf(failures));
  }
}
