package io.distillery.jobs.stage;

import io.distillery.dataset.DatasetKind;
import io.distillery.jobs.spark.Progress;
import io.distillery.run.Stage;
import io.distillery.run.StageManifest;
import io.distillery.settings.Settings;
import io.distillery.util.Hashing;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
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

  /** The manifest of a stage this run finished, if it did. */
  public static Optional<StageManifest> finished(StageContext ctx, Stage stage) {
    String path = ctx.layout().manifest(stage);
    return ctx.exists(path) ? Optional.of(StageManifest.fromJson(ctx.readFile(path))) : Optional.empty();
  }

  /**
   * A stage's key: the hash of the config sections it depends on and of the manifests of the stages before it. A
   * finished stage with the same key is reused.
   */
  public static String key(Settings settings, Stage stage, Map<Stage, StageManifest> upstream) {
    StringBuilder key = new StringBuilder(settings.hashOf(stage.configSections()));
    for (Stage before : stage.upstream()) {
      key.append(':').append(upstream.get(before).hash());
    }
    return Hashing.sha256Hex(key.toString()).substring(0, 16);
  }

  /**
   * Checks that what a reused stage committed is still there: a data file lost since would otherwise surface only
   * when (and if) a later stage reads it.
   */
  private static void verify(StageContext ctx, StageManifest reused) {
    for (DatasetKind kind : Stage.valueOf(reused.stage().toUpperCase(Locale.ROOT)).writes()) {
      reused.table(kind).ifPresent(t -> ctx.tables().verify(t, kind, ctx.layout().runId()));
    }
  }

  /** Runs {@code job} unless this run already finished it with the same key; returns its manifest. */
  public static StageManifest runOrReuse(StageJob job, StageContext ctx, boolean force) {
    Stage stage = job.stage();
    String runId = ctx.settings().run().id();
    Map<Stage, StageManifest> upstream = new EnumMap<>(Stage.class);
    for (Stage before : stage.upstream()) {
      upstream.put(before, finished(ctx, before).orElseThrow(() -> new IllegalStateException(
          "Stage " + stage.label() + " of run '" + runId + "' needs stage " + before.label() + " first: run "
              + "`distillery " + before.label() + "` or `distillery run` with the same --run-id.")));
    }
    String configHash = key(ctx.settings(), stage, upstream);
    Optional<StageManifest> previous = finished(ctx, stage);
    if (!force && previous.isPresent() && previous.get().configHash().equals(configHash)) {
      LOG.info("Stage {} of run '{}' already finished with the same inputs (key {}): reusing it", stage.label(),
          runId, configHash);
      verify(ctx, previous.get());
      return previous.get();
    }
    previous.ifPresent(p -> LOG.info("Stage {} of run '{}' finished before with key {}, now {}: running it again",
        stage.label(), runId, p.configHash(), configHash));
    long start = System.nanoTime();
    StageContext stageCtx = ctx.forStage(upstream);
    StageResult result = Progress.grouped(ctx.spark().sparkContext(), stage.label(),
        stage.label() + " of run '" + runId + "'", () -> job.run(stageCtx, upstream));
    double elapsed = Math.round((System.nanoTime() - start) / 1e7) / 100.0;
    StageManifest manifest = StageManifest.of(stage, runId, configHash, result.teacher(), result.counts(),
        result.details(), elapsed, stageCtx.commits(), result.signOff());
    ctx.writeFile(ctx.layout().manifest(stage), manifest.toJson());
    LOG.info("Stage {} of run '{}' done: {}", stage.label(), runId, manifest.counts());
    return manifest;
  }
}
