package io.distillery.jobs;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.distillery.TestSettings;
import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.jobs.cli.DistilleryCli;
import io.distillery.jobs.evaluate.Promotions;
import io.distillery.jobs.pipeline.Pipeline;
import io.distillery.jobs.purge.Purge;
import io.distillery.jobs.stage.StageContext;
import io.distillery.run.EvaluationRecord;
import io.distillery.run.RunLayout;
import io.distillery.run.Stage;
import io.distillery.run.StageManifest;
import io.distillery.run.TableSnapshot;
import io.distillery.settings.Settings;
import io.distillery.util.Html;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * distillery purge on a root two teachers answered in (one night each): the purged teacher's rows leave every
 * dataset and their files the disk, its model is tainted (the promoted one, so flagged, and it cannot be promoted
 * again), the audit log counts it, a purge killed half-way and run again ends consistent, and the night retrained
 * on another teacher is free of it.
 */
class PurgeTest {
  private static final String PURGED = "teacher-x";
  private static final String KEPT = "teacher-y";
  private static SparkSession spark;

  @AfterAll
  static void stop() {
    if (spark != null) {
      spark.stop();
    }
  }

  private static Map<String, String> overrides(Path root, String runId, String teacher) {
    Map<String, String> o = new HashMap<>();
    o.put("distillery.run.root", root.toUri().toString());
    o.put("distillery.run.id", runId);
    o.put("distillery.spark.master", "local[2]");
    o.put("distillery.spark.partitions", "2");
    o.put("distillery.corpus.max-documents", "400");
    o.put("distillery.teacher.name", teacher);
    o.put("distillery.train.epochs", "1");
    o.put("distillery.evaluate.throughput-rows", "32");
    o.put("distillery.evaluate.gate.min-agreement", "0");
    return o;
  }

  private static Settings settings(Path root, String runId, String teacher) {
    Settings s = TestSettings.langid(overrides(root, runId, teacher));
    if (spark == null) {
      spark = TestRuns.spark(s);
    }
    return s;
  }

  private static StageManifest generate(Settings s) {
    return StageManifest.fromJson(StageContext.of(s, spark).readFile(RunLayout.of(s.run()).manifest(Stage.GENERATE)));
  }

  private static JsonNode json(String path) throws IOException {
    return StageManifest.json().readTree(Files.readAllBytes(Path.of(URI.create(path))));
  }

  /** The purged teacher's rows in a table, all runs, at its current snapshot. */
  private static long rowsOf(Settings s, DatasetKind kind, String teacher) {
    return spark.read().table(StageContext.of(s, spark).tables().sparkName(kind))
        .where(col(Cols.TEACHER_NAME).equalTo(teacher)).count();
  }

  @Test
  void aPurgedTeacherLeavesNoRowNoFileAndTaintsItsModelEvenWhenKilledHalfWay(@TempDir Path root) throws Exception {
    Settings y = settings(root, "night-1", KEPT);
    Pipeline.runAll(y, spark);
    Settings x = settings(root, "night-2", PURGED);
    Pipeline.runAll(x, spark);
    RunLayout layout = RunLayout.of(x.run());
    Promotions promotions = new Promotions(spark, layout);
    assertEquals("night-2", promotions.current().orElseThrow().runId(), "another teacher's student: promoted");
    Path scores = Path.of(URI.create(layout.heldOutScores()));
    assertTrue(Files.isDirectory(scores), "evaluate wrote the held-out scores");
    long labelsY = TestRuns.read(spark, y, DatasetKind.TEACHER_LABELS).count();
    long labelsX = TestRuns.read(spark, x, DatasetKind.TEACHER_LABELS).count();
    // The report's examples quote held-out rows, the purged teacher's answers among them.
    Path report = Path.of(URI.create(layout.report()));
    Path otherReport = Path.of(URI.create(RunLayout.of(y.run()).report()));
    String otherBefore = Files.readString(otherReport);
    List<String> texts = TestRuns.read(spark, x, DatasetKind.TEACHER_LABELS).select(Cols.TEXT).as(Encoders.STRING())
        .collectAsList().stream().filter(t -> t.length() >= 40).map(t -> Html.escape(t.substring(0, 40)))
        .toList(); // a few hundred rows; the report shortens long texts
    assertTrue(texts.stream().anyMatch(Files.readString(report)::contains), "the report quotes the rows");
    List<String> oldFiles = new ArrayList<>();
    generate(x).tables().values().forEach(t -> t.files().forEach(f -> oldFiles.add(f.path())));

    // A dry run says what would go and changes nothing.
    Purge.Outcome dry = Purge.purge(x, spark, new Purge.Request(Purge.By.TEACHER, PURGED, true, "test", ""));
    assertEquals(Map.of("night-2", Map.of("teacher-labels", labelsX)), dry.rows(), dry.toString());
    assertEquals(labelsX, rowsOf(x, DatasetKind.TEACHER_LABELS, PURGED));
    assertFalse(Files.exists(Path.of(URI.create(layout.purgeAudit()))));

    // Killed right after its first partition commit (a JVM halted: no cleanup runs)...
    List<String> args = new ArrayList<>(List.of("purge", "--teacher", PURGED, "--by", "Jane Roe",
        "--reason", "terms withdrawn", "--config", TestSettings.repoFile("conf/examples/langid.conf").toString()));
    overrides(root, "night-2", PURGED).forEach((k, v) -> args.addAll(List.of("--set", k + "=" + v)));
    List<String> command = TestJvms.command("2g", DistilleryCli.class.getName(), args);
    command.add(1, "-Dio.distillery.test.purge-halt-after-commits=1");
    Process killed = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(root.resolve("killed.log").toFile()).start();
    assertTrue(killed.waitFor(5, TimeUnit.MINUTES));
    assertEquals(137, killed.exitValue(), Files.readString(root.resolve("killed.log")));
    // ...every run still reads whole (the manifest's snapshot, old or new, is there) and nothing is half-written.
    for (Settings s : List.of(y, x)) {
      generate(s).tables().forEach((name, t) -> StageContext.of(s, spark).tables()
          .verify(t, DatasetKind.valueOf(name.toUpperCase(Locale.ROOT).replace('-', '_')), s.run().id()));
    }
    assertEquals(labelsY, TestRuns.read(spark, y, DatasetKind.TEACHER_LABELS).count());

    // Run again, it finishes the job.
    Purge.Outcome done = Purge.purge(x, spark, new Purge.Request(Purge.By.TEACHER, PURGED, false, "Jane Roe",
        "terms withdrawn"));
    for (DatasetKind kind : Stage.GENERATE.writes()) {
      if (StageContext.of(x, spark).tables().exists(kind)) {
        assertEquals(0, rowsOf(x, kind, PURGED), kind + " still holds the purged teacher's rows");
      }
    }
    assertEquals(0, TestRuns.read(spark, x, DatasetKind.TEACHER_LABELS).count());
    assertEquals(labelsY, TestRuns.read(spark, y, DatasetKind.TEACHER_LABELS).count(), "the other teacher's stay");
    assertEquals(labelsY, rowsOf(y, DatasetKind.TEACHER_LABELS, KEPT));
    for (String f : oldFiles) {
      assertFalse(new File(URI.create(f)).exists(), "old data file still on disk: " + f);
    }
    assertTrue(done.dataFilesDeleted() > 0, done.toString());
    assertEquals(labelsX, generate(x).counts().get("purged_teacher-labels"), generate(x).counts().toString());

    assertFalse(Files.exists(scores), "the held-out scores, which hold the purged answers, are gone");
    String purgedReport = Files.readString(report);
    assertEquals(List.of(), texts.stream().filter(purgedReport::contains).limit(3).toList(),
        "the report no longer quotes them");
    assertTrue(purgedReport.contains("id=\"purged\"")
        && purgedReport.contains("(teacher = " + PURGED + " (terms withdrawn)"), "it says why");
    assertTrue(purgedReport.contains("<h2>Examples"), "and what was there");
    assertEquals(otherBefore, Files.readString(otherReport), "the other night's report is untouched");
    assertTrue(Files.isDirectory(Path.of(URI.create(RunLayout.of(y.run()).heldOutScores()))), "the other night's");
    // The model that learnt from them is tainted: its card, its evaluation, the promotion records.
    JsonNode card = json(layout.modelCard());
    assertEquals("teacher = " + PURGED + " (terms withdrawn)", card.path("tainted").get(0).path("what").asText());
    assertEquals("Jane Roe", card.path("tainted").get(0).path("by").asText());
    assertEquals(1, card.path("tainted").size(), "the purge run again does not taint twice");
    assertTrue(promotions.current().orElseThrow().learntFromPurgedRows(), "the promoted student is flagged");
    assertTrue(promotions.history().stream().filter(r -> r.runId().equals("night-2"))
        .allMatch(EvaluationRecord::learntFromPurgedRows));
    assertFalse(promotions.history().stream().filter(r -> r.runId().equals("night-1"))
        .anyMatch(EvaluationRecord::learntFromPurgedRows));
    IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
        () -> promotions.promoteRun("night-2", "rollback"));
    assertTrue(refused.getMessage().contains("tainted"), refused.getMessage());

    // The audit log: the killed start, the second start and its end, with who, what and the counts.
    List<JsonNode> audit = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of(URI.create(layout.purgeAudit())))) {
      audit.add(StageManifest.json().readTree(line));
    }
    assertEquals(List.of("started", "started", "done"), audit.stream().map(a -> a.path("status").asText()).toList());
    JsonNode end = audit.get(2);
    assertEquals("Jane Roe", end.path("by").asText());
    assertEquals("teacher = " + PURGED, end.path("what").asText());
    assertEquals(labelsX, audit.get(0).path("rows").path("night-2").path("teacher-labels").asLong());
    assertEquals("[\"night-2\"]", end.path("models_tainted").toString());
    assertTrue(end.path("promoted_tainted").asBoolean());

    // Night 2 taught again, by another teacher: its new model is clean and it may be promoted.
    Settings retaught = settings(root, "night-2", "teacher-z");
    Pipeline.runAll(retaught, spark);
    JsonNode clean = json(layout.modelCard());
    assertEquals("teacher-z", clean.path("teacher").path("name").asText());
    assertTrue(clean.path("tainted").isMissingNode() || clean.path("tainted").isEmpty(), clean.toString());
    assertEquals(0, TestRuns.read(spark, retaught, DatasetKind.TEACHER_LABELS)
        .where(col(Cols.TEACHER_NAME).equalTo(PURGED)).count());
    JsonNode transparency = json(layout.transparency());
    assertEquals(List.of("teacher-z"), transparency.path("teachers").findValuesAsText("name"));
    TableSnapshot labels = generate(retaught).table(DatasetKind.TEACHER_LABELS).orElseThrow();
    assertTrue(labels.rows() > 0);
  }
}
