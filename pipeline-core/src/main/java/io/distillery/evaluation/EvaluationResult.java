package io.distillery.evaluation;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What a task's evaluation measured.
 *
 * @param metrics named numbers, written to metrics.json and checked by the gate
 * @param tables comparisons for report.html (e.g. an ablation)
 * @param figures charts for report.html
 */
public record EvaluationResult(Map<String, Double> metrics, List<Table> tables, List<Figure> figures) {
  public EvaluationResult {
    metrics = Map.copyOf(metrics);
    tables = List.copyOf(tables);
    figures = List.copyOf(figures);
  }

  public double metric(String name) {
    Double v = metrics.get(name);
    if (v == null) {
      throw new IllegalArgumentException("no metric " + name + " among " + metrics.keySet());
    }
    return v;
  }

  public EvaluationResult withMetric(String name, double value) {
    Map<String, Double> more = new HashMap<>(metrics);
    more.put(name, value);
    return new EvaluationResult(more, tables, figures);
  }
}
