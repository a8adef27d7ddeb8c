package io.distillery.jobs.task.languagemodel;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.dataset.PackedTokens;
import io.distillery.jobs.TestRuns;
import io.distillery.jobs.generate.GenerateJob;
import io.distillery.jobs.pipeline.Pipeline;
import io.distillery.jobs.spark.HadoopFiles;
import io.distillery.jobs.stage.StageContext;
import io.distillery.run.RunLayout;
import io.distillery.run.Stage;
import io.distillery.run.StageManifest;
import io.distillery.settings.Settings;
import io.distillery.teacher.http.FaultInjectingProxy;
import io.distillery.teacher.http.FaultInjectingProxy.Fault;
import io.distillery.teacher.server.TeacherServer;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Task language-model with a remote teacher: generate asks serve-teacher (the same TinyStories model, over real
 * HTTP on loopback) through a proxy that injects 429s, 5xx, slow and truncated answers and resets into a fifth of
 * the first attempts. Each sample is its own request, with its own seed, so the remote corpus is the in-process one.
 * The remote runs are conf/examples/stories-remote.conf pointed at that proxy.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LmRemoteTeacherTest {
  private static final List<Fault> FAULTS = List.of(Fault.TOO_MANY_REQUESTS, Fault.SERVER_ERROR, Fault.SLOW,
      Fault.TRUNCATED, Fault.NOT_JSON, Fault.RESET);
  private static final int MAX_TOKENS = 24;

  @TempDir
  static Path root;

  private TeacherServer server;
  private FaultInjectingProxy proxy;
  private SparkSession spark;
  private Settings local;
  private Map<String, Row> localRows;
  private LmOutputs localOutputs;

  private static Fault plan(String input, int attempt) {
    int h = Math.floorMod(input.hashCode(), 5 * FAULTS.size());
    return attempt == 1 && h < FAULTS.size() ? FAULTS.get(h) : Fault.NONE;
  }

  @BeforeAll
  void generateInProcessAndStartTheServer() {
    local = StoriesRuns.settings("stories.conf", root, MAX_TOKENS, Map.of("distillery.run.id", "in-process"));
    spark = TestRuns.spark(local);
    localOutputs = Pipeline.run(local, spark, List.of(Stage.INGEST, Stage.GENERATE), false).get(Stage.GENERATE)
        .details(LmOutputs.class);
    localRows = new HashMap<>();
    // 320 rows of at most 24 tokens.
    TestRuns.read(spark, local, DatasetKind.TEACHER_COMPLETIONS).collectAsList()
        .forEach(r -> localRows.put(r.getAs(Cols.ROW_ID), r));
    server = TeacherServer.start(StoriesRuns.settings("stories.conf", root, MAX_TOKENS, Map.of(
        "distillery.serve.port", "0", "distillery.serve.max-concurrent", "8")), Optional.empty());
  }

  @BeforeEach
  void startTheProxy() {
    proxy = FaultInjectingProxy.start(URI.create("http://127.0.0.1:" + server.address().getPort() + "/v1"),
        LmRemoteTeacherTest::plan, Duration.ofMillis(1500), 0);
  }

  @AfterEach
  void stopTheProxy() {
    proxy.close();
  }

  @AfterAll
  void stop() {
    server.close();
  }

  private Settings remote(String runId, String kind, boolean tokenIds) {
    return remote(runId, kind, tokenIds, Map.of());
  }

  private Settings remote(String runId, String kind, boolean tokenIds, Map<String, String> more) {
    Map<String, String> o = new HashMap<>(more);
    o.put("distillery.run.id", runId);
    o.put("distillery.teacher.kind", kind);
    o.put("distillery.teacher.http.base-url", proxy.baseUrl());
    o.put("distillery.teacher.http.return-token-ids", Boolean.toString(tokenIds));
    o.put("distillery.teacher.http.request-timeout", "1s");
    o.put("distillery.teacher.http.retry.initial-backoff", "20ms");
    o.put("distillery.teacher.http.retry.max-backoff", "200ms");
    o.put("distillery.teacher.http.price.output-per-million-tokens", "10");
    return StoriesRuns.settings("stories-remote.conf", root, MAX_TOKENS, o);
  }

  private Map<String, Object> estimate(Settings s) {
    return new GenerateJob(new LmGeneration()).estimate(StageContext.of(s, spark));
  }

  @Test
  void throughFaultsTheRemoteCorpusIsTheInProcessOneARerunAsksNothingAndAStudentLearnsFromIt() throws Exception {
    Settings s = remote("remote-completions", "openai-completions", true);
    Pipeline.run(s, spark, List.of(Stage.INGEST), false);
    Map<String, Object> before = estimate(s);
    long requests = 2 * StoriesRuns.prompts();
    assertEquals(requests, before.get("requests"), before.toString());
    assertEquals(requests, before.get("requests_to_send"));
    assertEquals(requests * MAX_TOKENS, before.get("estimated_output_tokens"), "max_tokens × n per prompt");

    StageManifest generate = Pipeline.run(s, spark, List.of(Stage.GENERATE), false).get(Stage.GENERATE);
    Map<String, Long> c = generate.counts();
    assertEquals(requests, c.get("rows_in"), c.toString());
    assertEquals(0L, c.get("failed"), "every fault was retried: " + c);
    assertEquals(requests, c.get("written") + c.get("quarantined"));
    assertEquals(requests, proxy.answered().size(), "one request per sample");
    assertTrue(proxy.answered().values().stream().allMatch(n -> n == 1), "none answered twice");
    assertTrue(proxy.attempts().values().stream().anyMatch(n -> n > 1), "faults were injected");

    List<Row> rows = TestRuns.read(spark, s, DatasetKind.TEACHER_COMPLETIONS).collectAsList(); // 320 at most
    assertEquals(localRows.size(), rows.size(), "the same completions quarantined");
    long completionTokens = 0;
    for (Row r : rows) {
      Row expected = localRows.get(r.<String>getAs(Cols.ROW_ID));
      assertEquals(expected.<String>getAs(Cols.COMPLETION), r.getAs(Cols.COMPLETION));
      for (String packed : List.of(Cols.TOKEN_IDS, Cols.TOKEN_LOGPROBS, Cols.TOP_K)) {
        assertArrayEquals(expected.<byte[]>getAs(packed), r.<byte[]>getAs(packed), packed + " of " + r);
      }
      for (String same : List.of(Cols.SEED, Cols.FINISH_REASON, Cols.TOP_K_SIZE, Cols.PROMPT_TOKENS,
          Cols.COMPLETION_TOKENS)) {
        assertEquals(expected.<Object>getAs(same), r.getAs(same), same);
      }
      assertEquals(server.modelName(), r.getAs(Cols.SERVED_MODEL));
      assertFalse(r.<Boolean>getAs(Cols.FROM_CACHE));
      completionTokens += r.<Long>getAs(Cols.COMPLETION_TOKENS);
    }
    LmOutputs outputs = generate.details(LmOutputs.class);
    assertEquals(localOutputs.tokenizerFingerprint(), outputs.tokenizerFingerprint(),
        "the fingerprint of teacher.tokenizer, the served model's");
    assertEquals(0L, outputs.textOnlyCompletions());
    assertEquals(completionTokens, outputs.completionTokens());
    assertTrue(c.get("cost_micros") > 0, c.toString());

    // Another run over the same prompts: every sample from the cache, nothing sent.
    Settings again = remote("remote-completions-again", "openai-completions", true);
    Pipeline.run(again, spark, List.of(Stage.INGEST), false);
    assertEquals(0L, estimate(again).get("requests_to_send"));
    Map<String, Integer> attempts = proxy.attempts();
    Map<String, Long> cached = Pipeline.run(again, spark, List.of(Stage.GENERATE), false).get(Stage.GENERATE)
        .counts();
    assertEquals(c.get("written"), cached.get("answered_from_cache"), cached.toString());
    assertEquals(0L, cached.get("answered_by_requests"));
    assertEquals(attempts, proxy.attempts(), "nothing was sent");

    // A student learns from the remote corpus; evaluate does not ask the teacher again.
    Settings student = remote("remote-completions", "openai-completions", true, Map.of("distillery.train.epochs",
        "1", "distillery.train.hard-label-ablation", "false", "distillery.student.max-tokens", "64",
        "distillery.evaluate.samples", "2", "distillery.evaluate.throughput-rows", "32"));
    Pipeline.run(student, spark, List.of(Stage.TRAIN, Stage.EVALUATE), false);
    JsonNode m = StageManifest.json().readTree(HadoopFiles.read(spark,
        new RunLayout(student.run().root(), student.run().id()).metrics())).get("metrics");
    assertTrue(m.get("teacher_mean_latency_ms").asDouble() > 0, m.toString());
    assertFalse(m.has("teacher_model_bytes"), "a remote teacher's weights are not visible");
    // The teacher's speed is what generate achieved with the requests it kept open, not one request's latency.
    assertEquals(16, m.get("teacher_requests_open").asLong(), "max-in-flight 8 in each of 2 partitions");
    assertEquals(c.get("answered_by_requests") / (c.get("request_phase_ms") / 1000.0),
        m.get("teacher_sequences_per_second").asDouble(), 1e-6);
    assertTrue(m.get("perplexity_ratio").asDouble() > 1 && Double.isFinite(m.get("perplexity_ratio").asDouble()),
        m.toString());
    assertEquals(attempts, proxy.attempts(), "evaluate asked nothing");
  }

  @Test
  void answersWithoutTheAlternativesIdsAreACorpusButNotTrainingData() throws Exception {
    Settings s = remote("remote-chat-text", "openai-chat", false);
    Map<Stage, StageManifest> done = Pipeline.run(s, spark, List.of(Stage.INGEST, Stage.GENERATE), false);
    Map<String, Long> c = done.get(Stage.GENERATE).counts();
    assertEquals(0L, c.get("failed"), c.toString());
    // Chat reads the user message as the prompt: the same text as in-process; the ids of the tokens (token_ids),
    // not of their alternatives (token strings).
    List<Row> rows = TestRuns.read(spark, s, DatasetKind.TEACHER_COMPLETIONS).collectAsList(); // 320 at most
    for (Row r : rows) {
      Row expected = localRows.get(r.<String>getAs(Cols.ROW_ID));
      assertEquals(expected.<String>getAs(Cols.COMPLETION), r.getAs(Cols.COMPLETION));
      assertArrayEquals(PackedTokens.ids(expected.getAs(Cols.TOKEN_IDS)), PackedTokens.ids(r.getAs(Cols.TOKEN_IDS)));
      assertEquals(0L, r.<Long>getAs(Cols.TOP_K_SIZE));
    }
    assertEquals(rows.size(), done.get(Stage.GENERATE).details(LmOutputs.class).textOnlyCompletions());
    assertEquals(rows.size(), TestRuns.read(spark, s, DatasetKind.TEACHER_COMPLETIONS)
        .where(col(Cols.TOP_K).equalTo(new byte[0])).count());

    IllegalStateException train = assertThrows(IllegalStateException.class,
        () -> Pipeline.run(s, spark, List.of(Stage.TRAIN), false));
    assertTrue(train.getMessage().contains("teacher.http.return-token-ids") && train.getMessage().contains(
        Integer.toString(rows.size())), train.getMessage());
  }
}
