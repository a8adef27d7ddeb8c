package io.distillery.evaluation;

import io.distillery.settings.Settings;
import java.util.ArrayList;
import java.util.List;

/** The promotion gate: a student is promoted only if every configured threshold holds. */
public record Gate(boolean passed, List<String> failures) {

  public static final String MEAN_COSINE = "mean_cosine";
  public static final String NEIGHBOUR_RECALL = "neighbour_recall";

  public static Gate check(Settings.Gate gate, EvaluationResult result) {
    List<String> failures = new ArrayList<>();
    require(failures, result.metric(MEAN_COSINE), gate.minMeanCosine(), "mean cosine to the teacher");
    require(failures, result.metric(NEIGHBOUR_RECALL), gate.minNeighbourRecall(), "neighbour agreement");
    return new Gate(failures.isEmpty(), List.copyOf(failures));
  }

  private static void require(List<String> failures, double actual, double min, String what) {
    if (!(actual >= min)) {
      failures.add(String.format("%s %.4f is below the gate's %.4f", what, actual, min));
    }
  }
}
