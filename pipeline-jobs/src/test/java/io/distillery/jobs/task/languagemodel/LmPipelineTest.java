package io.distillery.jobs.task.languagemodel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.distillery.TestSettings;
import io.distillery.dataset.DatasetKind;
import io.distillery.jobs.Notebooks;
import io.distillery.jobs.TestRuns;
import io.distillery.jobs.pipeline.Pipeline;
import io.distillery.jobs.pipeline.TaskRegistry;
import io.distillery.jobs.spark.HadoopFiles;
import io.distillery.jobs.task.StudentRecipe;
import io.distillery.run.RunLayout;
import io.distillery.run.Stage;
import io.distillery.run.StageManifest;
import io.distillery.settings.Settings;
import io.distillery.student.LmStudentModel;
import io.distillery.student.StudentArtifact;
import io.distillery.teacher.Completion;
import io.distillery.teacher.Decoding;
import io.distillery.teacher.LanguageModelTeacher;
import io.distillery.teacher.Llama2Teacher;
import io.distillery.teacher.server.TeacherServer;
import io.distillery.util.Resources;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Task language-model end to end on the shipped stories config, made smaller (2 samples of 32 tokens a prompt, 3
 * epochs): the real TinyStories teacher, the LSTM student and its hard-label ablation, evaluated against the teacher
 * on the held-out prompts' completions, in Spark local mode.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LmPipelineTest {
  @TempDir
  static Path root;

  private Settings settings;
  private SparkSession spark;
  private RunLayout layout;
  private Map<Stage, StageManifest> stages;

  @BeforeAll
  void runTheStoriesPipelineOnce() {
    settings = StoriesRuns.settings("stories.conf", root, 32, Map.of("distillery.student.max-tokens", "64",
        "distillery.train.epochs", "3", "distillery.evaluate.samples", "4"));
    spark = TestRuns.spark(settings);
    stages = Pipeline.runAll(settings, spark);
    layout = new RunLayout(settings.run().root(), settings.run().id());
  }

  @Test
  void everyStageRanAndTrainReadEveryCompletion() {
    assertEquals(List.of(Stage.INGEST, Stage.GENERATE, Stage.TRAIN, Stage.EVALUATE), List.copyOf(stages.keySet()));
    Map<String, Long> generate = stages.get(Stage.GENERATE).counts();
    Map<String, Long> train = stages.get(Stage.TRAIN).counts();
    assertEquals(0L, generate.get("failed"), generate.toString());
    long heldOut = TestRuns.read(spark, settings, DatasetKind.TEACHER_COMPLETIONS)
        .where("split = 'test'").count();
    assertEquals(generate.get("written"), train.get("train_rows") + train.get("validation_rows") + heldOut,
        generate + " " + train);
  }

  @Test
  void theStudentIsAnLstmOverTheTeachersVocabularyThatReadsLikeItsNetwork() throws Exception {
    byte[] model = HadoopFiles.read(spark, layout.studentModel());
    StudentArtifact artifact = StudentArtifact.fromBytes(model);
    Llama2Teacher teacher = Llama2Teacher.shared(settings.teacher());
    assertEquals(teacher.vocabSize(), artifact.lmInputs().vocabSize());
    assertEquals(teacher.tokenizerFingerprint(), artifact.lmInputs().tokenizerFingerprint());
    assertArrayEquals(Resources.readAll(settings.teacher().tokenizer()), artifact.tokenizerFile());
    long parameters = artifact.network().numParams();
    assertTrue(parameters < 200_000, parameters + " parameters");
    LmStudentModel student = LmStudentModel.of(artifact);
    int[] prompt = teacher.tokenizer().encode("Once upon a time", true);
    int[] completion = teacher.tokenizer().encode("there was a little girl named Lily.", false);
    float[][] arrays = student.logprobs(prompt, completion);
    float[][] network = student.logprobsWithNetwork(prompt, completion);
    for (int p = 0; p < arrays.length; p++) {
      assertArrayEquals(network[p], arrays[p], 1e-4f, "position " + p);
    }
    assertTrue(HadoopFiles.exists(spark, layout.ablationModel(StudentRecipe.HARD_LABELS)));
    JsonNode card = StageManifest.json().readTree(HadoopFiles.read(spark, layout.modelCard()));
    assertEquals(teacher.tokenizerFingerprint(), card.at("/student_inputs/tokenizer_fingerprint").asText());
    JsonNode epochs = card.at("/training/epochs");
    assertTrue(epochs.get(3).get("validation_loss").asDouble() < epochs.get(0).get("validation_loss").asDouble(),
        epochs.toString());
  }

  @Test
  void evaluateScoresTheStudentOnTheTeachersHeldOutCompletions() throws Exception {
    JsonNode doc = StageManifest.json().readTree(HadoopFiles.read(spark, layout.metrics()));
    JsonNode m = doc.get("metrics");
    double teacher = m.get("teacher_perplexity").asDouble();
    double student = m.get("student_perplexity").asDouble();
    assertTrue(teacher > 1 && teacher < 10, "the teacher is sure of its own tokens: " + m);
    assertTrue(student > teacher && student < 100, "a trained student, far below the 512 of guessing: " + m);
    assertEquals(student / teacher, m.get("perplexity_ratio").asDouble(), 1e-9);
    double agreement = m.get("top1_agreement").asDouble();
    assertTrue(agreement > 0.2 && agreement <= 1, m.toString());
    assertTrue(m.get("mean_kl").asDouble() > 0, m.toString());
    assertTrue(m.has("ablation.hard-labels.student_perplexity"), m.toString());
    assertEquals(m.get("held_out_tokens").asDouble(), m.get("ablation.hard-labels.held_out_tokens").asDouble());
    assertTrue(m.get("student_sequences_per_second").asDouble() > 0
        && m.get("teacher_sequences_per_second").asDouble() > 0, m.toString());
    Settings.Gate gate = settings.evaluate().gate();
    boolean passes = m.get("perplexity_ratio").asDouble() <= gate.maxPerplexityRatio()
        && agreement >= gate.minTokenAgreement();
    assertEquals(passes, doc.at("/gate/passed").asBoolean(), doc.toString());
    String html = new String(HadoopFiles.read(spark, layout.report()), StandardCharsets.UTF_8);
    assertTrue(html.contains("Soft targets vs the teacher's tokens") && html.contains("hard-labels"), "ablation");
    assertTrue(html.contains("Held-out prompts, teacher and student"), "the samples table");
    Matcher nan = Pattern.compile("[>\\s]NaN").matcher(html); // in text, not inside a chart's base64
    assertFalse(nan.find(), () -> "no figure is NaN: " + html.substring(Math.max(0, nan.start() - 300),
        nan.start() + 20));
  }

  @Test
  void theStudentVsTeacherNotebookFindsTheCompletionsAndTokensItAgreesOnLeast() throws Exception {
    JsonNode metrics = StageManifest.json().readTree(HadoopFiles.read(spark, layout.metrics())).get("metrics");
    JsonNode figures = Notebooks.execute(TestSettings.repoFile("notebooks/student-vs-teacher.ipynb"),
        Files.createTempDirectory("notebooks"), settings.run().root(), settings.run().id());
    assertEquals(metrics.get("held_out_rows").asLong(), figures.get("scored_rows").asLong());
    assertEquals(metrics.get("top1_agreement").asDouble(), figures.get("top1_agreement").asDouble(), 1e-9);
    // Every held-out token the student does not rank first is listed, one by one.
    long tokens = metrics.get("held_out_tokens").asLong();
    assertEquals(tokens - Math.round(tokens * metrics.get("top1_agreement").asDouble()),
        figures.get("disagreed_tokens").asLong());
    assertTrue(figures.get("disagreed_tokens").asLong() > 0, figures::toString);
  }

  @Test
  void serveTeacherServesTheTrainedStudentOnTheTeachersEndpoints() throws Exception {
    byte[] model = HadoopFiles.read(spark, layout.studentModel());
    LanguageModelTeacher student = TaskRegistry.of(settings.task()).student().orElseThrow()
        .servable(model, settings).orElseThrow();
    Settings.Sampling greedy = new Settings.Sampling(0, 1, 0, 10, List.of(), 0);
    Completion expected = Decoding.complete(Llama2Teacher.shared(settings.teacher()).tokenizer(),
        settings.student().maxTokens(), LmStudentModel.of(StudentArtifact.fromBytes(model)).session()::next,
        "Once upon a time", greedy, 2);
    Settings served = Settings.load(Optional.empty(), Map.of("distillery.serve.port", "0"));
    try (TeacherServer server = TeacherServer.start(served, Optional.empty(), student)) {
      HttpRequest post = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.address().getPort()
              + "/v1/completions")).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString("{\"model\": \"" + server.modelName() + "\", \"prompt\": "
              + "\"Once upon a time\", \"max_tokens\": 10, \"temperature\": 0, \"logprobs\": 2}")).build();
      HttpResponse<String> r = HttpClient.newHttpClient().send(post, HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode(), r.body());
      JsonNode c = StageManifest.json().readTree(r.body()).at("/choices/0");
      assertEquals(expected.text(), c.get("text").asText());
      assertEquals(expected.tokens()[0], c.at("/token_ids/0").asInt());
      assertEquals(settings.run().id() + "-student", server.modelName());
    }
  }
}
