package io.distillery.jobs.stage;

import io.distillery.dataset.DatasetKind;
import io.distillery.jobs.spark.HadoopFiles;
import io.distillery.jobs.spark.LegacyDatasets;
import io.distillery.jobs.spark.Progress;
import io.distillery.jobs.spark.Tables;
import io.distillery.run.RunLayout;
import io.distillery.run.Stage;
import io.distillery.run.StageManifest;
import io.distillery.run.TableSnapshot;
import io.distillery.settings.Settings;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * What a stage works with: the run's settings, the Spark session, the run's layout and its datasets. A stage reads a
 * dataset at the snapshot its writer committed (a dataset this stage wrote itself, else the one the manifest of the
 * stage that writes it records), and its writes are collected for its own manifest. A run's context outside a stage
 * ({@link #of}) reads what the run's finished stages committed.
 */
public final class StageContext {
  private final Settings settings;
  private final SparkSession spark;
  private final RunLayout layout;
  private final Tables tables;
  /** The manifests of the stages read from; null: every finished stage of the run, looked up when asked. */
  private final Map<Stage, StageManifest> upstream;
  private final Map<DatasetKind, TableSnapshot> committed;

  private StageContext(Settings settings, SparkSession spark, RunLayout layout, Map<Stage, StageManifest> upstream,
      Map<DatasetKind, TableSnapshot> committed) {
    this.settings = settings;
    this.spark = spark;
    this.layout = layout;
    this.tables = new Tables(spark, settings.tables(), HadoopFiles.qualified(spark, layout.tables()));
    this.upstream = upstream;
    this.committed = committed;
  }

  /** The run's context: it reads what the run's finished stages committed. */
  public static StageContext of(Settings settings, SparkSession spark) {
    return of(settings, spark, RunLayout.of(settings.run()));
  }

  /** The context of another run id under the same settings' tables (a run made elsewhere, an imported one). */
  public static StageContext of(Settings settings, SparkSession spark, RunLayout layout) {
    return new StageContext(settings, spark, layout, null, new EnumMap<>(DatasetKind.class));
  }

  /** The context one stage runs in: it reads from {@code read}'s manifests and collects what it writes. */
  public StageContext forStage(Map<Stage, StageManifest> read) {
    return new StageContext(settings, spark, layout, Map.copyOf(read), new EnumMap<>(DatasetKind.class));
  }

  /** The same stage with other settings (e.g. an ablation's); it shares this one's reads and writes. */
  public StageContext with(Settings other) {
    return new StageContext(other, spark, layout, upstream, committed);
  }

  public Settings settings() {
    return settings;
  }

  public SparkSession spark() {
    return spark;
  }

  public RunLayout layout() {
    return layout;
  }

  public Tables tables() {
    return tables;
  }

  /** This run's rows of a dataset at the snapshot its writer committed, its data files checked first. */
  public Dataset<Row> read(DatasetKind kind) {
    return tables.read(snapshot(kind).orElseThrow(() -> missing(kind)), kind, layout.runId());
  }

  /** Replaces this run's partition of a dataset's table with {@code rows}, in one commit. */
  public TableSnapshot write(Dataset<Row> rows, DatasetKind kind) {
    String stage = spark.sparkContext().getLocalProperty(Progress.JOB_GROUP);
    Progress.describe(spark.sparkContext(), (stage == null ? "" : stage + ": ") + "write " + tables.name(kind));
    TableSnapshot snapshot = tables.write(rows, kind, layout.runId());
    committed.put(kind, snapshot);
    return snapshot;
  }

  /** Whether this run has a committed snapshot of the dataset. */
  public boolean has(DatasetKind kind) {
    return snapshot(kind).isPresent();
  }

  /** A dataset's run partition in words, for messages: its table and run id. */
  public String describe(DatasetKind kind) {
    return "table " + tables.name(kind) + " (run_id = '" + layout.runId() + "')";
  }

  /** What this stage committed, by dataset name, for its manifest. */
  public Map<String, TableSnapshot> commits() {
    Map<String, TableSnapshot> byName = new TreeMap<>();
    committed.forEach((kind, snapshot) -> byName.put(kind.directory(), snapshot));
    return byName;
  }

  public boolean exists(String path) {
    return HadoopFiles.exists(spark, path);
  }

  public byte[] readFile(String path) {
    return HadoopFiles.read(spark, path);
  }

  /** Writes a small file (a model, a manifest, a report) atomically: readers never see half of it. */
  public void writeFile(String path, byte[] bytes) {
    HadoopFiles.write(spark, path, bytes);
  }

  private Optional<TableSnapshot> snapshot(DatasetKind kind) {
    if (committed.containsKey(kind)) {
      return Optional.of(committed.get(kind));
    }
    return writer(kind).flatMap(m -> m.table(kind));
  }

  /** The manifest of the stage that writes {@code kind}, if this context reads from it and it finished. */
  private Optional<StageManifest> writer(DatasetKind kind) {
    Stage stage = Stage.writing(kind);
    return upstream != null ? Optional.ofNullable(upstream.get(stage)) : Stages.finished(this, stage);
  }

  private IllegalStateException missing(DatasetKind kind) {
    Stage stage = Stage.writing(kind);
    Optional<StageManifest> writer = writer(kind);
    if (writer.isEmpty()) {
      return new IllegalStateException("Run '" + layout.runId() + "' has no " + kind.directory() + " dataset: stage "
          + stage.label() + " has not finished for it; run `distillery " + stage.label() + "` (or `distillery run`) "
          + "with the same --run-id first.");
    }
    if (writer.get().tables() == null && LegacyDatasets.exists(spark, kind, layout)) {
      return new IllegalStateException("Run '" + layout.runId() + "' was made before the datasets were tables: its "
          + kind.directory() + " rows are the Parquet directory " + layout.partition(kind) + ". Import the run with "
          + "`distillery tables import --run-id " + layout.runId() + "` (same --config), then run again.");
    }
    return new IllegalStateException("Run '" + layout.runId() + "' has no " + kind.directory() + " dataset: stage "
        + stage.label() + " did not write one (" + describe(kind) + ").");
  }
}
