package io.distillery.jobs;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.distillery.TestSettings;
import io.distillery.corpus.PromptCandidate;
import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.jobs.pipeline.Pipeline;
import io.distillery.jobs.pipeline.TaskRegistry;
import io.distillery.jobs.spark.HadoopFiles;
import io.distillery.jobs.stage.StageContext;
import io.distillery.run.RunLayout;
import io.distillery.run.Stage;
import io.distillery.run.StageManifest;
import io.distillery.run.TableSnapshot;
import io.distillery.settings.Settings;
import io.distillery.settings.TaskKind;
import io.distillery.student.StudentArtifact;
import io.distillery.teacher.OnnxEmbeddingTeacher;
import io.distillery.teacher.TokenContexts;
import io.distillery.tokenizer.Tokenizer;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Spliterators;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** The whole pipeline on the real teacher and a slice of the real corpus, in Spark local mode. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PipelineEndToEndTest {
  @TempDir
  static Path root;

  private Settings settings;
  private SparkSession spark;
  private RunLayout layout;
  private Map<Stage, StageManifest> first;

  @BeforeAll
  void runThePipelineOnce() {
    settings = TestRuns.settings(TestRuns.small(root, "e2e"));
    spark = TestRuns.spark(settings);
    layout = RunLayout.of(settings.run());
    first = Pipeline.runAll(settings, spark);
  }

  @Test
  void ingestAccountsForEverySentence() {
    Map<String, Long> c = first.get(Stage.INGEST).counts();
    assertEquals(c.get("sentences") + c.get("spans"), c.get("written") + c.get("duplicates") + c.get("quarantined"),
        c.toString());
    assertTrue(c.get("spans") > 100, "training sentences were augmented: " + c);
    assertEquals(1200L, c.get("documents_read"));
    assertTrue(c.get("documents_other_language") > 1000, c.toString()); // Europarl is 21 languages
    Dataset<Row> prompts = TestRuns.read(spark, settings, DatasetKind.PROMPTS);
    assertEquals(c.get("written"), prompts.count());
    assertEquals(c.get("written"), prompts.select(Cols.ROW_ID).distinct().count(), "row ids are unique");
    Dataset<Row> quarantine = TestRuns.read(spark, settings, DatasetKind.QUARANTINE);
    assertEquals(c.get("quarantined"), quarantine.count());
    Set<String> reasons = quarantine.select(Cols.REASON).distinct().as(Encoders.STRING())
        .collectAsList().stream().collect(Collectors.toSet());
    Set<String> allowed = Arrays.stream(PromptCandidate.Reason.values()).map(r -> r.name().toLowerCase())
        .collect(Collectors.toSet());
    assertTrue(allowed.containsAll(reasons), reasons.toString());
    // Spans are training prompts only: no held-out row is a span.
    assertEquals(0, prompts.where(col(Cols.SOURCE_REF).contains("#span-of:")
        .and(col(Cols.SPLIT).notEqual("train"))).count());
    assertEquals(Set.of("eng"), prompts.select(Cols.LANGUAGE).distinct().as(Encoders.STRING())
        .collectAsList().stream().collect(Collectors.toSet()));
  }

  @Test
  void generateAnswersEveryPromptWithProvenance() {
    StageManifest m = first.get(Stage.GENERATE);
    assertEquals(m.counts().get("rows_in"), m.counts().get("written") + m.counts().get("failed"));
    assertEquals(0L, m.counts().get("failed"));
    assertEquals(first.get(Stage.INGEST).counts().get("written"), m.counts().get("rows_in"));
    assertEquals(384, ((Number) m.details().get("embedding_dimension")).intValue());
    assertTrue(m.teacher().modelSha256().matches("[0-9a-f]{64}"));

    Dataset<Row> out = TestRuns.read(spark, settings, DatasetKind.TEACHER_EMBEDDINGS);
    assertEquals(m.counts().get("written"), out.count());
    for (String c : List.of(Cols.TEACHER_NAME, Cols.TEACHER_VERSION, Cols.TEACHER_SHA256, Cols.TERMS,
        Cols.REQUEST_HASH, Cols.CREATED_AT)) {
      assertEquals(0, out.where(col(c).isNull()).count(), c + " is set on every row");
    }
    Row one = out.where(col(Cols.TEACHER_SHA256).equalTo(m.teacher().modelSha256())
        .and(col(Cols.TERMS).equalTo("Apache-2.0"))).limit(1).collectAsList().get(0);
    assertEquals(384, one.getList(one.fieldIndex(Cols.EMBEDDING)).size());
    assertEquals(out.count(), out.select(Cols.REQUEST_HASH).distinct().count(), "one request per prompt");
    assertEquals(0, TestRuns.read(spark, settings, DatasetKind.TEACHER_FAILURES).count());
    assertEquals(m.counts().get("vocabulary_tokens"),
        TestRuns.read(spark, settings, DatasetKind.TEACHER_TOKEN_EMBEDDINGS).count());
  }

  @Test
  void generateSumsTheTeachersHiddenStatesOverTheTrainingSplitOnly() {
    StageManifest m = first.get(Stage.GENERATE);
    Dataset<Row> contexts = TestRuns.read(spark, settings, DatasetKind.TEACHER_TOKEN_CONTEXTS);
    // Every position the teacher read in a training prompt ([CLS] and [SEP] included), and none of the validation
    // or test prompts' (the student must not start from the teacher's view of held-out text).
    Tokenizer tokenizer = Tokenizer.open(settings.teacher().tokenizer(), settings.teacher().maxTokens());
    long trainPositions = 0;
    long allPositions = 0;
    long trainPrompts = 0;
    for (Row p : TestRuns.read(spark, settings, DatasetKind.PROMPTS).select(Cols.TEXT, Cols.SPLIT).collectAsList()) {
      int n = tokenizer.encodeForModel(p.getString(0)).getIds().length; // test-sized data
      allPositions += n;
      if (p.getString(1).equals("train")) {
        trainPositions += n;
        trainPrompts++;
      }
    }
    assertTrue(allPositions > trainPositions, "the held-out splits have prompts");
    Row totals = contexts.agg(sum(Cols.OCCURRENCES), count(lit(1))).first();
    assertEquals(trainPositions, totals.getLong(0));
    assertEquals(trainPositions, m.counts().get("context_occurrences"));
    assertEquals(totals.getLong(1), m.counts().get("context_tokens"));
    assertEquals(totals.getLong(1), contexts.select(Cols.TOKEN_ID).distinct().count(), "one row per token");
    long cls = tokenizer.specialIds()[0];
    assertEquals(trainPrompts, contexts.where(col(Cols.TOKEN_ID).equalTo(cls)).first().getLong(1),
        "[CLS] once per training prompt");
    // The means are the teacher's own hidden states: one token's, recomputed from the training prompts it occurs in.
    Row rare = contexts.where(col(Cols.OCCURRENCES).equalTo(3)).orderBy(Cols.TOKEN_ID).first();
    long token = rare.getLong(0);
    TokenContexts recomputed = new TokenContexts(384);
    try (OnnxEmbeddingTeacher teacher = OnnxEmbeddingTeacher.open(settings.teacher())) {
      for (Row p : TestRuns.read(spark, settings, DatasetKind.PROMPTS).where(col(Cols.SPLIT).equalTo("train"))
          .select(Cols.TEXT).collectAsList()) {
        if (Arrays.stream(tokenizer.encodeForModel(p.getString(0)).getIds()).anyMatch(id -> id == token)) {
          teacher.embed(p.getString(0), recomputed);
        }
      }
    }
    TokenContexts.Total total = StreamSupport.stream(Spliterators.spliteratorUnknownSize(
        recomputed.totals(), 0), false).filter(t -> t.tokenId() == token).findFirst().orElseThrow();
    assertEquals(3, total.occurrences());
    List<Float> mean = rare.getList(rare.fieldIndex(Cols.EMBEDDING));
    for (int d = 0; d < 384; d++) {
      assertEquals(total.sum()[d] / 3, mean.get(d), 1e-4, "dimension " + d + " of token " + token);
    }
    for (String c : List.of(Cols.TEACHER_NAME, Cols.TEACHER_SHA256, Cols.TERMS, Cols.CREATED_AT)) {
      assertEquals(0, contexts.where(col(c).isNull()).count(), c + " is set on every row");
    }
    assertEquals(m.teacher().modelSha256(), contexts.first().getAs(Cols.TEACHER_SHA256));
    tokenizer.close();
  }

  @Test
  void aRunGeneratedWithoutTokenContextsGetsAnActionableError() {
    // A run generated by an earlier version: the same manifest without the teacher-token-contexts table.
    Map<String, TableSnapshot> tables = new TreeMap<>(first.get(Stage.GENERATE).tables());
    assertTrue(tables.remove(DatasetKind.TEACHER_TOKEN_CONTEXTS.directory()) != null, tables.keySet().toString());
    StageManifest before = first.get(Stage.GENERATE).withTables(tables);
    StageContext ctx = StageContext.of(settings, spark).forStage(Map.of(Stage.INGEST, first.get(Stage.INGEST),
        Stage.GENERATE, before));
    IllegalStateException e = Assertions.assertThrows(IllegalStateException.class,
        () -> TaskRegistry.of(TaskKind.EMBED).student().orElseThrow().plan(ctx, before));
    assertTrue(e.getMessage().contains("--force") && e.getMessage().contains("student.init = teacher-tokens")
        && e.getMessage().contains(ctx.describe(DatasetKind.TEACHER_TOKEN_CONTEXTS)), e.getMessage());
  }

  @Test
  void trainWritesAStudentAndAModelCardNamingItsTeacherAndData() throws Exception {
    StageManifest m = first.get(Stage.TRAIN);
    assertTrue(m.counts().get("train_rows") > 300, m.counts().toString());
    byte[] model = HadoopFiles.read(spark, layout.studentModel());
    assertTrue(StudentArtifact.fromBytes(model).vocabulary().size() > 1000);
    // The known words: every word of the training split here (fewer than student.known-words), commonest first.
    Map<String, Long> counts = new HashMap<>();
    TestRuns.read(spark, settings, DatasetKind.PROMPTS).where(col(Cols.SPLIT).equalTo("train")).select(Cols.TEXT)
        .collectAsList().forEach(r -> Arrays.stream(r.getString(0).strip().split("\\s+"))
            .forEach(w -> counts.merge(w, 1L, Long::sum)));
    List<String> expected = counts.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()
        .thenComparing(Map.Entry.comparingByKey())).map(Map.Entry::getKey).toList();
    assertTrue(expected.size() > 1000 && expected.size() < settings.student().knownWords(), "" + expected.size());
    assertEquals(expected, StudentArtifact.fromBytes(model).knownWords());
    JsonNode card = StageManifest.json().readTree(HadoopFiles.read(spark, layout.modelCard()));
    assertEquals(expected.size(), card.at("/student_inputs/known_words").asInt());
    assertEquals(first.get(Stage.GENERATE).teacher().modelSha256(), card.at("/teacher/modelSha256").asText());
    assertEquals("Apache-2.0", card.at("/teacher/termsId").asText());
    assertEquals(first.get(Stage.GENERATE).hash(), card.at("/datasets/generate_manifest_hash").asText());
    assertEquals("teacher-context", card.at("/student_inputs/init").asText());
    JsonNode epochs = card.at("/training/epochs");
    assertEquals(3, epochs.size(), "epoch 0 (before training) and two epochs");
    assertTrue(epochs.get(1).get("validation_loss").asDouble() < epochs.get(0).get("validation_loss").asDouble(),
        "training lowers the validation loss: " + epochs);
    assertTrue(HadoopFiles.exists(spark, layout.checkpoint(1)) && HadoopFiles.exists(spark, layout.checkpoint(2)));
    JsonNode backends = card.at("/training/backends");
    assertEquals("driver", backends.get(0).get("where").asText(), backends.toString());
    for (JsonNode b : backends) {
      assertEquals("CpuBackend", b.get("backend").asText(), backends.toString());
      assertFalse(b.get("used_gpu").asBoolean());
    }
  }

  @Test
  void evaluateScoresTheStudentWritesAReportAndGatesPromotion() throws Exception {
    JsonNode metrics = StageManifest.json().readTree(HadoopFiles.read(spark, layout.metrics()));
    double meanCosine = metrics.at("/metrics/mean_cosine").asDouble();
    assertTrue(meanCosine > 0.5 && meanCosine <= 1.0, "mean cosine " + meanCosine);
    assertTrue(metrics.at("/metrics/p05_cosine").asDouble() < meanCosine);
    double recall = metrics.at("/metrics/neighbour_recall").asDouble();
    assertTrue(recall > 0.05 && recall <= 1.0, "recall " + recall);
    assertTrue(metrics.at("/metrics/spearman_pairwise").asDouble() > 0.2, metrics.toString());
    assertTrue(metrics.at("/metrics/student_speedup").asDouble() > 1.0, metrics.toString());
    // The student's rate spans the window, not one pass over a few texts (a few milliseconds).
    assertTrue(metrics.at("/metrics/throughput_student_seconds").asDouble()
        >= settings.evaluate().throughputWindow().toNanos() / 1e9, metrics.toString());
    assertEquals(first.get(Stage.EVALUATE).counts().get("held_out_rows").doubleValue(),
        metrics.at("/metrics/held_out_rows").asDouble());
    assertTrue(metrics.at("/gate/passed").asBoolean(), metrics.toString());
    assertTrue(HadoopFiles.exists(spark, root.toUri() + "/models/promoted.json"));
    String html = new String(HadoopFiles.read(spark, layout.report()), StandardCharsets.UTF_8);
    assertTrue(html.contains("<img") && html.contains("data:image/png;base64,"), "the report has charts");
    assertTrue(html.contains("mean_cosine"));
  }

  /**
   * The notebooks a data team opens, executed headless by Jupyter as CI does on this run (a failing cell fails
   * nbconvert), each printing its figures last; those figures are the run's own, read here from its manifests.
   */
  @Test
  void theNotebooksRunOnThisRunAndTheirFiguresAreTheManifests() throws Exception {
    Map<String, JsonNode> figures = new TreeMap<>();
    Path out = Files.createTempDirectory("notebooks");
    try (var notebooks = Files.list(TestSettings.repoFile("notebooks"))) {
      for (Path nb : notebooks.filter(f -> f.toString().endsWith(".ipynb")).sorted().toList()) {
        figures.put(nb.getFileName().toString(), Notebooks.execute(nb, out, root.toUri().toString(), "e2e"));
      }
    }
    assertEquals(Set.of("nights.ipynb", "run-summary.ipynb", "student-vs-teacher.ipynb", "teacher-answers.ipynb"),
        figures.keySet());
    Map<String, Long> ingest = StageManifest.fromJson(HadoopFiles.read(spark, layout.manifest(Stage.INGEST))).counts();
    Map<String, Long> generate = StageManifest.fromJson(HadoopFiles.read(spark, layout.manifest(Stage.GENERATE)))
        .counts();
    JsonNode metrics = StageManifest.json().readTree(HadoopFiles.read(spark, layout.metrics()));

    JsonNode summary = figures.get("run-summary.ipynb");
    assertTrue(summary.get("checks").asInt() >= 8, summary.toString());
    assertEquals(summary.get("checks").asInt(), summary.get("checks_holding").asInt(), summary.toString());
    assertEquals(ingest.get("written").longValue(), summary.get("prompts").asLong());
    assertEquals(generate.get("written").longValue(), summary.get("teacher_written").asLong());
    assertEquals(metrics.at("/gate/passed").asBoolean(), summary.get("gate_passed").asBoolean());

    JsonNode answers = figures.get("teacher-answers.ipynb");
    assertEquals(generate.get("written").longValue(), answers.get("answer_rows").asLong());
    assertEquals(generate.get("failed").longValue(), answers.get("failures").asLong());
    assertEquals(ingest.get("quarantined") + generate.get("quarantined"), answers.get("quarantined").asLong());

    JsonNode student = figures.get("student-vs-teacher.ipynb");
    assertEquals(metrics.at("/metrics/held_out_rows").asLong(), student.get("scored_rows").asLong());
    assertEquals(metrics.at("/metrics/mean_cosine").asDouble(), student.get("mean_cosine").asDouble(), 1e-6);

    JsonNode nights = figures.get("nights.ipynb");
    long promotions = Files.readAllLines(root.resolve("models/promotions.jsonl")).stream()
        .filter(l -> !l.isBlank()).count();
    assertEquals(promotions, nights.get("promotions").asLong());
    assertEquals("e2e", nights.get("promoted_run").asText());
  }

  /** The report as a person sees it: a browser loads it without errors, draws every chart, and it reads. */
  @Test
  void theReportLoadsInABrowserWithItsChartsDrawnAndReadsInWords() throws Exception {
    Path report = Path.of(URI.create(layout.report()));
    JsonNode page = HeadlessBrowser.load(report, List.of("#verdict", "#gate", "#metrics", "#provenance", "#trend"));
    assertEquals("Distillery evaluation: e2e", page.get("title").asText());
    assertEquals(List.of(), StreamSupport.stream(page.get("errors").spliterator(), false).map(JsonNode::asText)
        .toList(), "console errors");
    assertTrue(page.get("images").asInt() >= 2, page.toString());
    assertEquals(page.get("images").asInt(), page.get("drawn").asInt(), "every chart is drawn: " + page);
    JsonNode texts = page.get("texts");
    assertTrue(texts.get("#verdict").asText().startsWith("Promoted"), texts.toString());
    assertTrue(texts.get("#gate").asText().contains("Mean cosine to the teacher"), texts.toString());
    assertTrue(texts.get("#gate").asText().matches("(?s).*≥ 0\\.500.*meets it.*"), texts.toString());
    assertTrue(texts.get("#metrics").asText().contains("Student speed-up"), texts.toString());
    assertFalse(texts.get("#metrics").asText().matches("(?s).*\\d\\.\\d{6,}.*"), "no raw doubles: " + texts);
    assertTrue(texts.get("#provenance").asText().contains("Distillery 0.1.0"), texts.toString());
    assertTrue(texts.get("#provenance").asText().contains("transparency.html"), "where the file hashes are");
    String html = Files.readString(report);
    assertTrue(html.contains("Examples: nearest neighbours"), "examples of the student beside the teacher");
  }

  @Test
  void rerunningTheSameRunReusesFinishedStagesAndRerunsOnlyWhatChanged() {
    Map<Stage, StageManifest> again = Pipeline.runAll(settings, spark);
    for (Stage s : Stage.values()) {
      assertEquals(first.get(s).createdAt(), again.get(s).createdAt(), s + " was reused, not run again");
    }
    Map<String, String> changed = TestRuns.small(root, "e2e");
    changed.put("distillery.evaluate.neighbours", "5");
    Settings evalChanged = TestRuns.settings(changed);
    Map<Stage, StageManifest> third = Pipeline.runAll(evalChanged, spark);
    assertEquals(first.get(Stage.GENERATE).createdAt(), third.get(Stage.GENERATE).createdAt(),
        "no second teacher pass");
    assertEquals(first.get(Stage.TRAIN).createdAt(), third.get(Stage.TRAIN).createdAt());
    assertNotEquals(first.get(Stage.EVALUATE).createdAt(), third.get(Stage.EVALUATE).createdAt(),
        "a changed evaluate section runs evaluate again");
  }

  @Test
  void anotherRunIdLeavesThisRunsPartitionsAlone() throws Exception {
    Path prompts = root.resolve("tables/distillery/prompts/data");
    assertFalse(Files.exists(prompts.resolve("run_id=other")));
    assertTrue(Files.isDirectory(prompts.resolve("run_id=e2e")));
  }
}
