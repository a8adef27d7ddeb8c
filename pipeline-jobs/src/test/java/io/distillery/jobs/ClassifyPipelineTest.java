package io.distillery.jobs;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.distillery.TestSettings;
import io.distillery.corpus.Europarl;
import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.jobs.pipeline.Pipeline;
import io.distillery.jobs.spark.HadoopFiles;
import io.distillery.jobs.task.StudentRecipe;
import io.distillery.run.RunLayout;
import io.distillery.run.Stage;
import io.distillery.run.StageManifest;
import io.distillery.settings.Settings;
import io.distillery.student.StudentArtifact;
import io.distillery.util.Hashing;
import io.distillery.util.Resources;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Task classify end to end on the shipped langid config: the real OpenNLP teacher, Europarl documents, the
 * soft-label student and its hard-label ablation, in Spark local mode. The corpus is a JSONL file of Europarl
 * documents whose gold language is known from their script alone (Greek script: Greek; Cyrillic: Bulgarian,
 * the only Cyrillic language of Europarl's 21) and empty elsewhere, so gold labels are exercised too.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClassifyPipelineTest {
  @TempDir
  static Path root;

  private Settings settings;
  private SparkSession spark;
  private RunLayout layout;
  private Map<Stage, StageManifest> stages;
  private long goldDocuments;

  @BeforeAll
  void runTheLangidPipelineOnce() throws Exception {
    Path corpus = root.resolve("europarl-gold.jsonl");
    ObjectMapper json = new ObjectMapper();
    long[] gold = {0};
    try (BufferedWriter out = Files.newBufferedWriter(corpus, StandardCharsets.UTF_8)) {
      Europarl.read(0, 1, 2000, (line, body) -> {
        String lang = body.codePoints().anyMatch(c -> Character.UnicodeScript.of(c) == Character.UnicodeScript.GREEK)
            ? "ell" : body.codePoints().anyMatch(c -> Character.UnicodeScript.of(c) == Character.UnicodeScript.CYRILLIC)
            ? "bul" : "";
        gold[0] += lang.isEmpty() ? 0 : 1;
        try {
          out.write(json.writeValueAsString(Map.of("id", line, "text", body, "lang", lang)));
          out.newLine();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    }
    goldDocuments = gold[0];
    Map<String, String> o = new HashMap<>();
    o.put("distillery.run.root", root.toUri().toString());
    o.put("distillery.run.id", "langid-test");
    o.put("distillery.spark.master", "local[2]");
    o.put("distillery.spark.partitions", "2");
    o.put("distillery.corpus.source", "jsonl");
    o.put("distillery.corpus.path", corpus.toString());
    o.put("distillery.corpus.label-column", "lang");
    o.put("distillery.student.char-ngrams.max-chars", "128");
    o.put("distillery.student.char-ngrams.buckets", "4096");
    o.put("distillery.train.epochs", "3");
    o.put("distillery.train.learning-rate", "0.05");
    o.put("distillery.train.averaging-frequency", "4");
    o.put("distillery.evaluate.throughput-rows", "64");
    o.put("distillery.evaluate.gate.min-agreement", "0.85");
    settings = Settings.load(Optional.of(Path.of(System.getProperty("test.repo.root", ".."),
        "conf/examples/langid.conf")), o);
    spark = TestRuns.spark(settings);
    layout = RunLayout.of(settings.run());
    stages = Pipeline.runAll(settings, spark);
  }

  @Test
  void documentsBecomePromptsWithTheirGoldLabels() {
    Map<String, Long> c = stages.get(Stage.INGEST).counts();
    assertEquals(2000L, c.get("documents_read"));
    assertEquals(c.get("sentences"), c.get("written") + c.get("duplicates") + c.get("quarantined"), c.toString());
    assertEquals(0L, c.get("spans"));
    Dataset<Row> prompts = TestRuns.read(spark, settings, DatasetKind.PROMPTS);
    assertTrue(goldDocuments > 50, "Greek and Bulgarian documents in the slice: " + goldDocuments);
    long withGold = prompts.where(col(Cols.GOLD_LABEL).notEqual("")).count();
    assertTrue(withGold > goldDocuments * 0.9 && withGold <= goldDocuments, withGold + " of " + goldDocuments);
  }

  @Test
  void generateStoresTheTeachersTopKWithProvenanceAndTheLabelVocabulary() {
    StageManifest m = stages.get(Stage.GENERATE);
    assertEquals(m.counts().get("rows_in"), m.counts().get("written") + m.counts().get("failed"));
    assertEquals(0L, m.counts().get("failed"));
    List<?> vocabulary = (List<?>) m.details().get("label_vocabulary");
    assertEquals(103, vocabulary.size());
    assertTrue(((Map<?, ?>) m.details().get("teacher_top_label_counts")).size() >= 20, m.details().toString());
    assertEquals(Hashing.sha256Hex(Resources.readAll("classpath:langdetect-183.bin")), m.teacher().modelSha256());

    Dataset<Row> out = TestRuns.read(spark, settings, DatasetKind.TEACHER_LABELS);
    assertEquals(m.counts().get("written"), out.count());
    for (Row r : out.limit(200).collectAsList()) {
      List<String> labels = r.getList(r.fieldIndex(Cols.TOP_LABELS));
      List<Float> p = r.getList(r.fieldIndex(Cols.TOP_PROBABILITIES));
      assertEquals(10, labels.size());
      assertEquals(10, p.size());
      assertTrue(vocabulary.containsAll(labels), labels.toString());
      double sum = 0;
      for (int i = 0; i < p.size(); i++) {
        sum += p.get(i);
        assertTrue(i == 0 || p.get(i) <= p.get(i - 1), "most probable first: " + p);
      }
      // Some documents leave the teacher unsure (top-10 mass as low as 0.2 was seen), but its top label is never
      // below uniform and the mass never above 1.
      assertTrue(p.get(0) >= 1.0 / vocabulary.size() && sum <= 1.0001, "top-10 " + p);
      assertEquals("Apache-2.0", r.getString(r.fieldIndex(Cols.TERMS)));
      assertEquals(m.teacher().modelSha256(), r.getString(r.fieldIndex(Cols.TEACHER_SHA256)));
    }
    assertEquals(out.count(), out.select(Cols.REQUEST_HASH).distinct().count(), "one request per prompt");
  }

  @Test
  void trainsTheSoftLabelStudentAndItsHardLabelAblation() throws Exception {
    byte[] model = HadoopFiles.read(spark, layout.studentModel());
    assertEquals(103, StudentArtifact.fromBytes(model).classifierInputs().labels().size());
    assertTrue(HadoopFiles.exists(spark, layout.ablationModel(StudentRecipe.HARD_LABELS)));
    JsonNode card = StageManifest.json().readTree(HadoopFiles.read(spark, layout.modelCard()));
    assertEquals(0.9, card.at("/student_inputs/loss/softLabelWeight").asDouble(), 1e-9);
    assertEquals(0.0, card.at("/ablations/hard-labels/loss/softLabelWeight").asDouble(), 1e-9);
    JsonNode epochs = card.at("/training/epochs");
    assertTrue(epochs.get(2).get("validation_loss").asDouble() < epochs.get(0).get("validation_loss").asDouble(),
        epochs.toString());
  }

  @Test
  void theNotebooksReadTheTeachersLabelsAndWhereTheStudentDisagrees() throws Exception {
    Path out = Files.createTempDirectory("notebooks");
    JsonNode metrics = StageManifest.json().readTree(HadoopFiles.read(spark, layout.metrics())).get("metrics");
    JsonNode student = Notebooks.execute(TestSettings.repoFile("notebooks/student-vs-teacher.ipynb"), out,
        root.toUri().toString(), "langid-test");
    assertEquals(metrics.get("held_out_rows").asLong(), student.get("scored_rows").asLong());
    assertEquals(metrics.get("top1_agreement").asDouble(), student.get("top1_agreement").asDouble(), 1e-9);
    JsonNode answers = Notebooks.execute(TestSettings.repoFile("notebooks/teacher-answers.ipynb"), out,
        root.toUri().toString(), "langid-test");
    assertEquals(stages.get(Stage.GENERATE).counts().get("written").longValue(), answers.get("answer_rows").asLong());
  }

  @Test
  void evaluateReportsAgreementCalibrationGoldAccuracyAndTheAblation() throws Exception {
    JsonNode doc = StageManifest.json().readTree(HadoopFiles.read(spark, layout.metrics()));
    JsonNode m = doc.get("metrics");
    double agreement = m.get("top1_agreement").asDouble();
    assertTrue(agreement > 0.85 && agreement <= 1.0, m.toString());
    double hard = m.get("ablation.hard-labels.top1_agreement").asDouble();
    assertTrue(hard > 0.5 && hard <= 1.0, m.toString());
    assertTrue(m.get("mean_kl").asDouble() >= 0 && m.get("ece").asDouble() >= 0, m.toString());
    assertTrue(m.get("mean_kl").asDouble() < m.get("ablation.hard-labels.mean_kl").asDouble(),
        "soft labels teach the teacher's whole distribution, hard labels only its top: " + m);
    assertTrue(m.get("gold_rows").asDouble() > 0, m.toString());
    assertTrue(m.get("teacher_gold_accuracy").asDouble() > 0.9, m.toString());
    assertTrue(m.get("gold_accuracy").asDouble() > 0.8, m.toString());
    assertTrue(m.get("agreement_by_label.deu").asDouble() > 0.5, m.toString());
    assertTrue(m.get("student_docs_per_second").asDouble() > 0 && m.get("teacher_docs_per_second").asDouble() > 0);
    assertEquals(Resources.readAll("classpath:langdetect-183.bin").length, m.get("teacher_model_bytes").asLong());
    assertTrue(m.get("student_model_bytes").asDouble() < m.get("teacher_model_bytes").asDouble() / 10, m.toString());
    assertTrue(doc.at("/gate/passed").asBoolean(), doc.toString());
    String html = new String(HadoopFiles.read(spark, layout.report()), StandardCharsets.UTF_8);
    assertTrue(html.contains("Soft labels vs hard labels") && html.contains("hard-labels"), "the ablation table");
    assertTrue(html.contains("Confusion: teacher vs student") && html.contains("Calibration"), "the charts");
  }
}
