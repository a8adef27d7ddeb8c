package io.distillery.jobs;

import io.distillery.dataset.DatasetKind;
import io.distillery.jobs.spark.SparkSessions;
import io.distillery.jobs.stage.StageContext;
import io.distillery.settings.Settings;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/** Small, fast settings for pipeline tests: a slice of the real corpus, the real teacher, local[2]. */
public final class TestRuns {
  private TestRuns() {}

  public static Map<String, String> small(Path root, String runId) {
    Map<String, String> o = new HashMap<>();
    o.put("distillery.run.root", root.toUri().toString());
    o.put("distillery.run.id", runId);
    o.put("distillery.spark.master", "local[2]");
    o.put("distillery.spark.partitions", "2");
    o.put("distillery.corpus.max-documents", "1200");
    o.put("distillery.train.epochs", "2");
    o.put("distillery.train.batch-size", "32");
    o.put("distillery.train.averaging-frequency", "4");
    o.put("distillery.evaluate.pairwise-rows", "200");
    o.put("distillery.evaluate.throughput-rows", "64");
    o.put("distillery.evaluate.gate.min-mean-cosine", "0.5");
    o.put("distillery.evaluate.gate.min-neighbour-recall", "0.05");
    return o;
  }

  public static Settings settings(Map<String, String> overrides) {
    return Settings.load(Optional.empty(), overrides);
  }

  /** The run's rows of a dataset, at the snapshot the stage that wrote them committed. */
  public static Dataset<Row> read(SparkSession spark, Settings settings, DatasetKind kind) {
    return StageContext.of(settings, spark).read(kind);
  }

  /** A local Spark session for these settings (a new one if a test stopped the last). */
  public static SparkSession spark(Settings settings) {
    return SparkSessions.create(settings);
  }
}
