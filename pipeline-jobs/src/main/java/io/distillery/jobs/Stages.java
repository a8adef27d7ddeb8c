package io.distillery.jobs;

import io.distillery.dataset.RunLayout;
import io.distillery.dataset.Stage;
import io.distillery.dataset.StageManifest;
import io.distillery.settings.Settings;
import io.distillery.util.Hashing;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a stage, or reuses its finished output. A stage's key is the hash of the config sections it depends on
 * plus the manifests of the stages it reads: the same run id with the same key is not run again (no second
 * teacher pass); a changed config or a re-run upstream stage runs it again, replacing the run's partitions.
 */
public final class Stages {
  private static final Logger LOG = LoggerFactory.getLogger(Stages.class);

  private Stages() {}

  public static RunLayout layout(Settings settings) {
    return new RunLayout(settings.run().root(), settings.run().id());
  }

  public static Optional<StageManifest> finished(Settings settings, SparkSession spark, Stage stage) {
    String path = layout(settings).manifest(stage);
    return HadoopFiles.exists(spark, path)
        ? Optional.of(StageManifest.fromJson(HadoopFiles.read(spark, path))) : Optional.empty();
  }

  /** Runs {@code job} unless this run already finished it with the same key; returns its manifest. */
  public static StageManifest runOrReuse(StageJob job, Settings settings, SparkSession spark, boolean force) {
    Stage stage = job.stage();
    Map<Stage, StageManifest> upstream = new EnumMap<>(Stage.class);
    StringBuilder key = new StringBuilder(settings.hashOf(stage.configSections().toArray(String[]::new)));
    for (Stage before : Stage.values()) {
      if (before.ordinal() >= stage.ordinal()) {
        break;
      }
      StageManifest m = finished(settings, spark, before).orElseThrow(() -> new IllegalStateException(
          "Stage " + stage.label() + " of run '" + settings.run().id() + "' needs stage " + before.label()
              + " first: run `distillery " + before.label() + "` or `distillery run` with the same --run-id."));
      upstream.put(before, m);
      key.append(':').append(m.hash());
    }
    String configHash = Hashing.sha256Hex(key.toString()).substring(0, 16);
    Optional<StageManifest> previous = finished(settings, spark, stage);
    if (!force && previous.isPresent() && previous.get().configHash().equals(configHash)) {
      LOG.info("Stage {} of run '{}' already finished with the same inputs (key {}): reusing it",
          stage.label(), settings.run().id(), configHash);
      return previous.get();
    }
    previous.ifPresent(p -> LOG.info("Stage {} of run '{}' finished before with key {}, now {}: running it again",
        stage.label(), settings.run().id(), p.configHash(), configHash));
    long start = System.nanoTime();
    StageResult result = job.run(settings, spark, upstream);
    StageManifest manifest = StageManifest.of(stage, settings.run().id(), configHash, result.teacher(),
        result.counts(), withElapsed(result.details(), start));
    HadoopFiles.write(spark, layout(settings).manifest(stage), manifest.toJson());
    LOG.info("Stage {} of run '{}' done: {}", stage.label(), settings.run().id(), manifest.counts());
    return manifest;
  }

  private static Map<String, Object> withElapsed(Map<String, Object> details, long startNanos) {
    Map<String, Object> all = new java.util.TreeMap<>(details);
    all.put("elapsed_seconds", Math.round((System.nanoTime() - startNanos) / 1e7) / 100.0);
    return all;
  }
}
