package io.distillery.jobs.tables;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.distillery.dataset.Column;
import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.jobs.TestRuns;
import io.distillery.jobs.TextCorpusRuns;
import io.distillery.jobs.pipeline.Pipeline;
import io.distillery.jobs.spark.Tables;
import io.distillery.jobs.stage.StageContext;
import io.distillery.run.RunLayout;
import io.distillery.run.Stage;
import io.distillery.run.StageManifest;
import io.distillery.run.TableSnapshot;
import io.distillery.settings.Settings;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.Test;

/**
 * The datasets as Iceberg tables on a small text corpus, in Spark local mode: a stage reads exactly what the previous
 * one committed, a lost data file stops the reader naming it, re-runs replace their run's partition, maintenance
 * keeps what manifests refer to, and runs made before the tables can be imported.
 */
class TablesTest extends TextCorpusRuns {
  private StageManifest ingest(Settings s, boolean force) {
    return Pipeline.run(s, spark, List.of(Stage.INGEST), force).get(Stage.INGEST);
  }

  @Test
  void aLostDataFileStopsTheNextStageNamingTheTableTheSnapshotAndTheFile() throws Exception {
    Settings s = settings("lost-file", Map.of());
    StageManifest ingest = ingest(s, false);
    TableSnapshot prompts = ingest.table(DatasetKind.PROMPTS).orElseThrow();
    assertEquals(ingest.counts().get("written"), prompts.rows());
    assertFalse(prompts.files().isEmpty());
    Files.delete(Path.of(URI.create(prompts.files().get(0).path())));

    IllegalStateException generate = assertThrows(IllegalStateException.class,
        () -> Pipeline.run(s, spark, List.of(Stage.GENERATE), false));
    for (String named : List.of("distillery.prompts", Long.toString(prompts.snapshotId()),
        prompts.files().get(0).path(), "is missing")) {
      assertTrue(generate.getMessage().contains(named), named + " in: " + generate.getMessage());
    }
    IllegalStateException reused = assertThrows(IllegalStateException.class,
        () -> Pipeline.run(s, spark, List.of(Stage.INGEST), false));
    assertTrue(reused.getMessage().contains(prompts.files().get(0).path()), reused.getMessage());
    StageManifest again = ingest(s, true);
    assertEquals(prompts.rows(), TestRuns.read(spark, s, DatasetKind.PROMPTS).count(), "--force writes it again");
    assertTrue(again.table(DatasetKind.PROMPTS).orElseThrow().snapshotId() != prompts.snapshotId());
  }

  @Test
  void aRerunReplacesItsRunsPartitionAndTheListedFilesAreTheWholeOfIt() {
    Settings a = settings("replace-a", Map.of());
    Settings b = settings("replace-b", Map.of("distillery.corpus.min-words", "15"));
    ingest(a, false);
    StageManifest b1 = ingest(b, false);
    StageManifest a2 = ingest(a, true);
    StageManifest a3 = ingest(a, true);
    TableSnapshot latest = a3.table(DatasetKind.PROMPTS).orElseThrow();
    assertEquals(4, latest.rows());
    assertEquals(4, TestRuns.read(spark, a, DatasetKind.PROMPTS).count(), "no duplicates after two re-runs");
    assertEquals(b1.counts().get("written"), TestRuns.read(spark, b, DatasetKind.PROMPTS).count(),
        "another run's partition is left alone");
    // A reader without Iceberg: the files the manifest lists, as plain Parquet.
    String[] files = latest.files().stream().map(TableSnapshot.DataFile::path).toArray(String[]::new);
    assertEquals(4, spark.read().parquet(files).count());
    // The earlier snapshot is still readable at its id (time travel), until maintenance expires it.
    TableSnapshot earlier = a2.table(DatasetKind.PROMPTS).orElseThrow();
    Tables tables = StageContext.of(a, spark).tables();
    assertEquals(4, spark.read().option("snapshot-id", earlier.snapshotId()).table(tables.sparkName(DatasetKind.PROMPTS))
        .where(functions.col(DatasetKind.RUN_ID).equalTo("replace-a")).count());
  }

  @Test
  void aCommitWhoseDriverDiedBeforeItsManifestChangesNothingReadersSee() {
    Settings s = settings("killed-driver", Map.of());
    StageManifest ingest = ingest(s, false);
    StageContext ctx = StageContext.of(s, spark);
    // What a driver killed between its table commit and its manifest leaves: a newer snapshot of the run's partition
    // (here with every row twice) that no manifest records.
    Dataset<Row> prompts = ctx.read(DatasetKind.PROMPTS);
    TableSnapshot orphaned = ctx.tables().write(prompts.union(prompts), DatasetKind.PROMPTS, "killed-driver");
    assertEquals(8, orphaned.rows());
    assertEquals(4, TestRuns.read(spark, s, DatasetKind.PROMPTS).count(), "readers read the manifest's snapshot");
    StageManifest rerun = ingest(s, true);
    assertEquals(4, rerun.table(DatasetKind.PROMPTS).orElseThrow().rows(), "the re-run replaces the partition");
    assertEquals(ingest.counts(), rerun.counts());
  }

  @Test
  void maintenanceExpiresWhatNoManifestRefersToAndKeepsWhatOneDoes() throws Exception {
    Map<String, String> quick = Map.of("distillery.tables.maintain.snapshot-retention", "1ms",
        "distillery.tables.maintain.orphan-retention", "1ms");
    Settings kept = settings("maintain-kept", quick);
    Settings redone = settings("maintain-redone", quick);
    ingest(kept, false);
    ingest(redone, false);
    StageManifest last = ingest(redone, true);
    Tables tables = StageContext.of(kept, spark).tables();
    Path dataDir = Path.of(URI.create(last.table(DatasetKind.PROMPTS).orElseThrow().files().get(0).path()))
        .getParent();
    Path orphan = Files.writeString(dataDir.resolve("left-by-a-killed-job.parquet"), "not a table's file");
    Files.setLastModifiedTime(orphan, FileTime.from(Instant.now().minusSeconds(3600)));
    Thread.sleep(5);

    List<TableMaintenance.Outcome> outcomes = TableMaintenance.maintain(kept, spark);
    TableMaintenance.Outcome prompts = outcomes.stream().filter(o -> o.table().equals(tables.name(DatasetKind.PROMPTS)))
        .findFirst().orElseThrow();
    assertTrue(prompts.snapshotsExpired() > 0, prompts.toString());
    assertTrue(prompts.orphanFilesDeleted() >= 1, prompts.toString());
    assertFalse(Files.exists(orphan), "the orphan file is gone");
    assertTrue(prompts.runsKept() >= 2, prompts.toString());
    assertEquals(4, TestRuns.read(spark, kept, DatasetKind.PROMPTS).count(), "a kept run still reads its snapshot");
    assertEquals(4, TestRuns.read(spark, redone, DatasetKind.PROMPTS).count());
  }

  /** A table an earlier version made gains the columns declared since; its rows keep their values, nulls there. */
  @Test
  void aTableMadeBeforeAColumnWasDeclaredGainsItAndKeepsItsRows() {
    Settings s = settings("evolve", Map.of());
    Tables tables = StageContext.of(s, spark).tables();
    DatasetKind kind = DatasetKind.TEACHER_FAILURES;
    List<String> old = List.of(Cols.ROW_ID, Cols.TEXT, Cols.ERROR_CLASS, Cols.MESSAGE, Cols.ATTEMPTS, Cols.HTTP_STATUS,
        Cols.CREATED_AT);
    spark.sql("CREATE NAMESPACE IF NOT EXISTS " + tables.sparkName(kind).substring(0,
        tables.sparkName(kind).lastIndexOf('.')));
    spark.sql("CREATE TABLE " + tables.sparkName(kind) + " (row_id STRING, text STRING, error_class STRING, "
        + "message STRING, attempts BIGINT, http_status BIGINT, created_at TIMESTAMP, run_id STRING) USING iceberg "
        + "PARTITIONED BY (run_id)");
    spark.sql("INSERT INTO " + tables.sparkName(kind) + " VALUES ('r1', 't', 'http_500', 'm', 3, 500, "
        + "current_timestamp(), 'earlier')");
    tables.ensure(kind);
    Dataset<Row> evolved = spark.table(tables.sparkName(kind));
    for (Column c : kind.columns()) {
      assertTrue(List.of(evolved.schema().fieldNames()).contains(c.name()), c.name() + " in " + evolved.schema());
    }
    Row earlier = evolved.where(functions.col(DatasetKind.RUN_ID).equalTo("earlier")).first();
    assertEquals("http_500", earlier.getAs(Cols.ERROR_CLASS));
    assertTrue(earlier.isNullAt(earlier.fieldIndex(Cols.TEACHER_NAME)), "a row written before has no teacher");
    assertEquals(old.size() + 5 + 1, evolved.schema().size(), "the old columns, the teacher's five, run_id");
    tables.ensure(kind); // nothing left to add
  }

  @Test
  void aRunMadeBeforeTheTablesIsRefusedWithHowToImportItThenImported() {
    Settings s = settings("legacy", Map.of());
    StageManifest ingest = ingest(s, false);
    RunLayout layout = RunLayout.of(s.run());
    // As the earlier version left it: the rows as Parquet directories, the manifest without tables.
    for (DatasetKind kind : List.of(DatasetKind.PROMPTS, DatasetKind.QUARANTINE)) {
      TestRuns.read(spark, s, kind).withColumn(DatasetKind.RUN_ID, functions.lit("legacy")).write()
          .mode(SaveMode.Append).partitionBy(DatasetKind.RUN_ID).parquet(layout.dataset(kind));
    }
    StageManifest before = new StageManifest(ingest.stage(), ingest.runId(), ingest.configHash(),
        ingest.codeVersion(), ingest.createdAt(), ingest.teacher(), ingest.counts(), ingest.details(), null, null);
    StageContext ctx = StageContext.of(s, spark);
    ctx.writeFile(layout.manifest(Stage.INGEST), before.toJson());

    IllegalStateException refused = assertThrows(IllegalStateException.class,
        () -> StageContext.of(s, spark).read(DatasetKind.PROMPTS));
    assertTrue(refused.getMessage().contains("distillery tables import --run-id legacy"), refused.getMessage());
    Map<String, Long> imported = TableMaintenance.importRun(s, spark);
    assertEquals(ingest.counts().get("written"), imported.get("distillery.prompts"), imported.toString());
    assertEquals(ingest.counts().get("written"), TestRuns.read(spark, s, DatasetKind.PROMPTS).count());
    assertTrue(StageManifest.fromJson(ctx.readFile(layout.manifest(Stage.INGEST))).table(DatasetKind.QUARANTINE)
        .isPresent());
  }
}
