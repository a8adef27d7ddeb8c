package io.distillery.jobs;

import io.distillery.dataset.DatasetKind;
import io.distillery.jobs.spark.SparkSessions;
import io.distillery.jobs.stage.StageContext;
import io.distillery.settings.Settings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
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
    o.put("distillery.evaluate.throughput-window", "250ms");
    o.put("distillery.evaluate.gate.min-mean-cosine", "0.5");
    o.put("distillery.evaluate.gate.min-neighbour-recall", "0.05");
    return o;
  }

  /**
   * Four English sentences of 14 and 15 words and one too short, as a text corpus under {@code root}: the stages'
   * small tests run ingest on it.
   */
  public static Path textCorpus(Path root) throws IOException {
    return Files.write(root.resolve("corpus.txt"), List.of(
        "The committee adopted the report on fisheries after a long debate in the chamber.",
        "Members asked the Commission to publish its figures on regional aid before the summer.",
        "The vote on the budget will take place tomorrow at noon in Strasbourg as planned.",
        "Several speakers called for a common approach to energy prices across the Union.",
        "Short."), StandardCharsets.UTF_8);
  }

  /** {@link #small} settings reading {@code corpus} (a text file), without spans. */
  public static Settings text(Path root, String runId, Path corpus, Map<String, String> more) {
    Map<String, String> o = small(root, runId);
    o.put("distillery.corpus.source", "text");
    o.put("distillery.corpus.path", corpus.toString());
    o.put("distillery.corpus.spans-per-sentence", "0");
    o.putAll(more);
    return settings(o);
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
