package io.distillery.jobs.tables;

import io.distillery.dataset.DatasetKind;
import io.distillery.jobs.spark.HadoopFiles;
import io.distillery.jobs.spark.LegacyDatasets;
import io.distillery.jobs.spark.Tables;
import io.distillery.jobs.stage.StageContext;
import io.distillery.jobs.stage.Stages;
import io.distillery.run.RunLayout;
import io.distillery.run.Stage;
import io.distillery.run.StageManifest;
import io.distillery.run.TableSnapshot;
import io.distillery.settings.Settings;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.iceberg.Table;
import org.apache.iceberg.actions.DeleteOrphanFiles;
import org.apache.iceberg.actions.ExpireSnapshots;
import org.apache.iceberg.spark.actions.SparkActions;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeping a nightly root's tables small, and bringing runs made before the datasets were tables into them. Every
 * snapshot a run's stage manifest refers to is tagged ({@code run-RUN}) before anything is expired, so maintenance
 * never takes what a kept run reads.
 */
public final class TableMaintenance {
  private static final Logger LOG = LoggerFactory.getLogger(TableMaintenance.class);

  private TableMaintenance() {}

  /** What maintenance did to one table. */
  public record Outcome(String table, int runsKept, long snapshotsExpired, long dataFilesDeleted,
      long orphanFilesDeleted) {}

  /**
   * Expires the tables' snapshots older than tables.maintain.snapshot-retention that no run's manifest refers to,
   * then deletes files under the tables older than tables.maintain.orphan-retention that no snapshot refers to.
   */
  public static List<Outcome> maintain(Settings settings, SparkSession spark) {
    StageContext ctx = StageContext.of(settings, spark);
    Tables tables = ctx.tables();
    Map<DatasetKind, Map<String, TableSnapshot>> referenced = referencedSnapshots(settings, spark);
    long now = System.currentTimeMillis();
    List<Outcome> outcomes = new ArrayList<>();
    for (DatasetKind kind : DatasetKind.values()) {
      if (!tables.exists(kind)) {
        continue;
      }
      Table table = tables.load(kind);
      Map<String, TableSnapshot> runs = referenced.getOrDefault(kind, Map.of());
      runs.forEach((runId, snapshot) -> keep(table, runId, snapshot));
      int before = size(table);
      ExpireSnapshots.Result expired = SparkActions.get(spark).expireSnapshots(table)
          .expireOlderThan(now - settings.tables().snapshotRetention().toMillis()).execute();
      table.refresh();
      DeleteOrphanFiles.Result orphans = SparkActions.get(spark).deleteOrphanFiles(table)
          .olderThan(now - settings.tables().orphanRetention().toMillis()).execute();
      runs.forEach((runId, snapshot) -> tables.verify(snapshot, kind, runId));
      long orphanFiles = 0;
      for (String ignored : orphans.orphanFileLocations()) {
        orphanFiles++;
      }
      Outcome o = new Outcome(tables.name(kind), runs.size(), before - size(table), expired.deletedDataFilesCount(),
          orphanFiles);
      LOG.info("{}", o);
      outcomes.add(o);
    }
    return outcomes;
  }

  /** Tags the snapshot a run's manifest refers to (again, if the tag went or moved). */
  private static void keep(Table table, String runId, TableSnapshot snapshot) {
    String tag = Tables.tag(runId);
    var ref = table.refs().get(tag);
    if (ref == null) {
      table.manageSnapshots().createTag(tag, snapshot.snapshotId()).commit();
    } else if (ref.snapshotId() != snapshot.snapshotId()) {
      table.manageSnapshots().replaceTag(tag, snapshot.snapshotId()).commit();
    }
  }

  private static int size(Table table) {
    table.refresh();
    int n = 0;
    for (var ignored : table.snapshots()) {
      n++;
    }
    return n;
  }

  /** Every run under the root with a stage manifest: the snapshots it refers to, by dataset and run id. */
  private static Map<DatasetKind, Map<String, TableSnapshot>> referencedSnapshots(Settings settings,
      SparkSession spark) {
    Map<DatasetKind, Map<String, TableSnapshot>> referenced = new EnumMap<>(DatasetKind.class);
    RunLayout root = RunLayout.of(settings.run());
    for (String runId : HadoopFiles.list(spark, root.root() + "/runs")) {
      StageContext run = StageContext.of(settings, spark, new RunLayout(root.root(), runId));
      for (Stage stage : Stage.values()) {
        Stages.finished(run, stage).ifPresent(m -> {
          for (DatasetKind kind : stage.writes()) {
            m.table(kind).ifPresent(t -> referenced.computeIfAbsent(kind, k -> new TreeMap<>()).put(runId, t));
          }
        });
      }
    }
    return referenced;
  }

  /**
   * Writes a run made before the datasets were tables into them: each Parquet partition its ingest and generate
   * stages wrote becomes its run's partition of the table, and each manifest records the snapshot. The Parquet
   * directories stay; later stages of the run see changed manifests and run again (no teacher pass).
   *
   * @return rows imported, by table
   */
  public static Map<String, Long> importRun(Settings settings, SparkSession spark) {
    StageContext ctx = StageContext.of(settings, spark);
    Map<String, Long> imported = new LinkedHashMap<>();
    List<Stage> writers = List.of(Stage.INGEST, Stage.GENERATE);
    if (writers.stream().allMatch(stage -> Stages.finished(ctx, stage).isEmpty())) {
      throw new IllegalStateException("Run '" + settings.run().id() + "' has no ingest or generate manifest under "
          + ctx.layout().root() + ": nothing to import (check --run-id and run.root).");
    }
    for (Stage stage : writers) {
      StageManifest manifest = Stages.finished(ctx, stage).orElse(null);
      if (manifest == null) {
        continue;
      }
      if (manifest.tables() != null) {
        LOG.info("Stage {} of run '{}' already records its tables", stage.label(), settings.run().id());
        continue;
      }
      Map<String, TableSnapshot> committed = new TreeMap<>();
      for (DatasetKind kind : stage.writes()) {
        if (LegacyDatasets.exists(spark, kind, ctx.layout())) {
          TableSnapshot s = ctx.tables().write(LegacyDatasets.read(spark, kind, ctx.layout()), kind,
              settings.run().id());
          committed.put(kind.directory(), s);
          imported.put(s.table(), s.rows());
        }
      }
      ctx.writeFile(ctx.layout().manifest(stage), manifest.withTables(committed).toJson());
    }
    return imported;
  }
}
