package io.distillery.jobs.task;

import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.settings.Settings;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/** Chooses the task plug-in named by distillery.task. */
public final class Tasks {
  private Tasks() {}

  public static DistillationTask of(Settings settings) {
    return switch (settings.task()) {
      case "embed" -> new EmbedTask();
      case "classify" -> new ClassifyTask();
      default -> throw new IllegalArgumentException("distillery.task: no task named " + settings.task());
    };
  }

  /**
   * A remote teacher's answers per second, one request at a time: 1000 / the mean latency its held-out rows
   * recorded at generate (it is not asked again to be timed: every request is billed). Adds
   * {@code teacher_mean_latency_ms} to {@code metrics}.
   */
  static double remoteTeacherPerSecond(Dataset<Row> heldOut, Map<String, Double> metrics) {
    Row r = heldOut.agg(org.apache.spark.sql.functions.avg(Cols.LATENCY_MS)).first();
    double ms = r.isNullAt(0) ? Double.NaN : r.getDouble(0);
    metrics.put("teacher_mean_latency_ms", ms);
    return 1000 / ms;
  }
}
