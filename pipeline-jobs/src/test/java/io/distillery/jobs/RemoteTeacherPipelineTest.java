package io.distillery.jobs;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.distillery.TestSettings;
import io.distillery.corpus.Europarl;
import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.jobs.generate.GenerateJob;
import io.distillery.jobs.generate.ResponseCache;
import io.distillery.jobs.pipeline.Pipeline;
import io.distillery.jobs.pipeline.TaskRegistry;
import io.distillery.jobs.purge.Purge;
import io.distillery.jobs.spark.HadoopFiles;
import io.distillery.jobs.stage.StageContext;
import io.distillery.jobs.task.RemoteRequests;
import io.distillery.run.RunLayout;
import io.distillery.run.Stage;
import io.distillery.run.StageManifest;
import io.distillery.settings.Settings;
import io.distillery.teacher.OpenNlpLanguageTeacher;
import io.distillery.teacher.http.FaultInjectingProxy;
import io.distillery.teacher.http.FaultInjectingProxy.Fault;
import io.distillery.teacher.server.TeacherServer;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.security.alias.CredentialProviderFactory;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Task classify with a remote teacher: the generate stage asks serve-teacher (the real language detector, over
 * real HTTP on loopback) through a proxy that injects 429s with Retry-After, 500s, 503s, timeouts, truncated and
 * non-JSON bodies and resets into a fifth of the first attempts, and answers 400 to a few inputs always.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RemoteTeacherPipelineTest {
  private static final List<Fault> FAULTS = List.of(Fault.TOO_MANY_REQUESTS, Fault.SERVER_ERROR, Fault.UNAVAILABLE,
      Fault.SLOW, Fault.TRUNCATED, Fault.NOT_JSON, Fault.RESET);
  private static final String MODEL = "apache-opennlp/langdetect-183";

  @TempDir
  static Path root;

  private TeacherServer server;
  private FaultInjectingProxy proxy;
  private SparkSession spark;
  private Path corpus;

  /** The planned fault of an input's attempt: 400 always for inputs containing "Erika"; else a fifth faulted once. */
  private static Fault plan(String input, int attempt) {
    if (input.contains("Erika")) {
      return Fault.BAD_REQUEST;
    }
    int h = Math.floorMod(input.hashCode(), 5 * FAULTS.size());
    return attempt == 1 && h < FAULTS.size() ? FAULTS.get(h) : Fault.NONE;
  }

  @BeforeAll
  void startTheTeacher() throws Exception {
    server = TeacherServer.start(TestSettings.langid(Map.of("distillery.serve.port", "0",
        "distillery.serve.max-concurrent", "8")), Optional.empty());
    corpus = root.resolve("europarl.jsonl");
    ObjectMapper json = new ObjectMapper();
    try (BufferedWriter out = Files.newBufferedWriter(corpus, StandardCharsets.UTF_8)) {
      Europarl.read(0, 1, 400, (line, body) -> {
        try {
          out.write(json.writeValueAsString(Map.of("id", line, "text", body)));
          out.newLine();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    }
  }

  /** A proxy per test, so that each test counts only its own requests. */
  @BeforeEach
  void startTheProxy() {
    proxy = FaultInjectingProxy.start(URI.create("http://127.0.0.1:" + server.address().getPort() + "/v1"),
        RemoteTeacherPipelineTest::plan, Duration.ofMillis(1500), 0);
  }

  @AfterEach
  void stopTheProxy() {
    proxy.close();
  }

  @AfterAll
  void stop() {
    server.close();
  }

  private Settings settings(String runId, Map<String, String> more) {
    Settings s = TestSettings.langid(overrides(runId, more));
    if (spark == null) {
      spark = TestRuns.spark(s);
    }
    return s;
  }

  /** The keys these tests set over conf/examples/langid.conf. */
  private Map<String, String> overrides(String runId, Map<String, String> more) {
    Map<String, String> o = new HashMap<>();
    o.put("distillery.run.root", root.resolve("runs").toUri().toString());
    o.put("distillery.run.id", runId);
    o.put("distillery.spark.master", "local[2]");
    o.put("distillery.spark.partitions", "2");
    o.put("distillery.corpus.source", "jsonl");
    o.put("distillery.corpus.path", corpus.toString());
    o.put("distillery.teacher.kind", "openai-chat");
    o.put("distillery.teacher.model", MODEL);
    o.put("distillery.teacher.http.base-url", proxy.baseUrl());
    o.put("distillery.teacher.http.request-timeout", "1s");
    o.put("distillery.teacher.http.retry.initial-backoff", "20ms");
    o.put("distillery.teacher.http.retry.max-backoff", "200ms");
    o.put("distillery.teacher.http.price.input-per-million-tokens", "2");
    o.put("distillery.teacher.http.price.output-per-million-tokens", "8");
    o.put("distillery.generate.max-failure-fraction", "0.05");
    o.put("distillery.student.char-ngrams.max-chars", "128");
    o.put("distillery.student.char-ngrams.buckets", "4096");
    o.put("distillery.evaluate.throughput-rows", "32");
    o.put("distillery.evaluate.gate.min-agreement", "0");
    o.putAll(more);
    return o;
  }

  @Test
  void faultsAreRetriedNothingIsLostOrAskedTwiceAndARerunAsksNothing() throws Exception {
    Settings first = settings("remote-1", Map.of());
    Map<Stage, StageManifest> done = Pipeline.runAll(first, spark);
    StageManifest generate = done.get(Stage.GENERATE);
    Map<String, Long> c = generate.counts();
    long rows = c.get("rows_in");
    assertTrue(rows > 300, c.toString());
    assertEquals(rows, c.get("written") + c.get("failed"), c.toString());

    // The 400s failed at once, with their status; nothing else failed.
    var failures = TestRuns.read(spark, first, DatasetKind.TEACHER_FAILURES);
    long erika = TestRuns.read(spark, first, DatasetKind.PROMPTS)
        .where(col(Cols.TEXT).contains("Erika")).count();
    assertTrue(erika > 0 && erika < rows * 0.05, "documents about Erika: " + erika);
    assertEquals(erika, c.get("failed"));
    assertEquals(erika, failures.where(col(Cols.HTTP_STATUS).equalTo(400).and(col(Cols.ATTEMPTS).equalTo(1))
        .and(col(Cols.ERROR_CLASS).equalTo("http_400"))).count());
    assertEquals(erika, failures.where(col(Cols.TEACHER_NAME).equalTo(first.teacher().name())
        .and(col(Cols.TERMS).equalTo(first.teacher().terms().id()))).count(), "each failure names its teacher");

    // Every answered input was answered once by the server, whatever its first attempt met.
    Map<String, Integer> answered = proxy.answered();
    assertEquals(rows - erika, answered.size());
    assertTrue(answered.values().stream().allMatch(n -> n == 1), answered.toString());
    assertEquals(rows - erika, c.get("answered_by_requests"));
    assertEquals(0L, c.get("answered_from_cache"));
    assertTrue(c.get("prompt_tokens") > 1000 && c.get("completion_tokens") == rows - erika, c.toString());
    assertEquals(Math.round((c.get("prompt_tokens") * 2 + c.get("completion_tokens") * 8) / 1e6 * 1e6),
        c.get("cost_micros"));

    // The transparency report sums the rows' own token counts: the same as the executors counted while asking.
    JsonNode teacher = readJson(RunLayout.of(first.run()).transparency()).path("teachers").get(0);
    assertEquals(c.get("prompt_tokens"), teacher.path("prompt_tokens").asLong(), teacher.toString());
    assertEquals(c.get("completion_tokens"), teacher.path("completion_tokens").asLong());
    assertEquals(c.get("cost_micros") / 1e6, teacher.path("cost").asDouble(), 1e-6);
    assertEquals(MODEL, teacher.path("served_models").get(0).path("served_model").asText());
    assertEquals(0, teacher.path("cached_rows").asLong());
    JsonNode failed = readJson(RunLayout.of(first.run()).transparency()).path("failures");
    assertEquals("http_400", failed.get(0).path("reason").asText(), failed.toString());
    assertEquals(erika, failed.get(0).path("rows").asLong());

    // The teacher-answers notebook, on this run: the rows' own token counts add up to what generate was billed.
    JsonNode notebook = Notebooks.execute(TestSettings.repoFile("notebooks/teacher-answers.ipynb"),
        Files.createTempDirectory("notebook"), first.run().root(), first.run().id());
    assertTrue(notebook.path("remote").asBoolean(), notebook.toString());
    assertEquals(c.get("written"), notebook.path("answer_rows").asLong());
    assertEquals(erika, notebook.path("failures").asLong());
    assertEquals(c.get("prompt_tokens"), notebook.path("prompt_tokens").asLong(), notebook.toString());
    assertEquals(c.get("completion_tokens"), notebook.path("completion_tokens").asLong());

    // Each row: the same distribution as the in-process teacher, and what the server said about it.
    OpenNlpLanguageTeacher local = OpenNlpLanguageTeacher.shared(TestSettings.langid(Map.of()).teacher());
    var out = TestRuns.read(spark, first, DatasetKind.TEACHER_LABELS);
    for (Row r : out.collectAsList()) {
      assertEquals(MODEL, r.getAs(Cols.SERVED_MODEL));
      assertTrue(r.<String>getAs(Cols.SYSTEM_FINGERPRINT).startsWith("sha256-"));
      assertEquals(((String) r.getAs(Cols.TEXT)).length(), r.<Long>getAs(Cols.PROMPT_TOKENS));
      assertFalse(r.<Boolean>getAs(Cols.FROM_CACHE));
      assertEquals(64, r.<String>getAs(Cols.REQUEST_HASH).length());
      float[] expected = local.distribution(r.getAs(Cols.TEXT));
      List<String> labels = r.getList(r.fieldIndex(Cols.TOP_LABELS));
      List<Float> p = r.getList(r.fieldIndex(Cols.TOP_PROBABILITIES));
      for (int k = 0; k < labels.size(); k++) {
        assertEquals(expected[local.labels().indexOf(labels.get(k))], p.get(k), 1e-5, labels.get(k));
      }
    }
    assertEquals("", generate.teacher().modelSha256(), "a remote teacher's weights are not visible");
    assertTrue(generate.teacher().artifact().contains("/v1/chat/completions model=" + MODEL));

    // Train and evaluate ran on the remote teacher's answers; its speed comes from the recorded latencies.
    assertTrue(done.containsKey(Stage.EVALUATE));
    var metrics = readMetrics(first);
    // (400 documents and 2 epochs make a weak student; its quality is ClassifyPipelineTest's business.)
    assertTrue(metrics.get("held_out_rows").asDouble() > 20, metrics.toString());
    double agreement = metrics.get("top1_agreement").asDouble();
    assertTrue(agreement >= 0 && agreement <= 1, metrics.toString());
    assertTrue(metrics.get("student_docs_per_second").asDouble() > 0, metrics.toString());
    assertTrue(metrics.get("teacher_mean_latency_ms").asDouble() > 0, metrics.toString());
    assertFalse(metrics.has("teacher_model_bytes"));

    // A second run over the same corpus asks the server nothing but what never got an answer.
    int before = proxy.arrivals().size();
    Map<String, Long> again = Pipeline.run(settings("remote-2", Map.of()), spark, List.of(Stage.INGEST,
        Stage.GENERATE), false).get(Stage.GENERATE).counts();
    assertEquals(rows - erika, again.get("answered_from_cache"), again.toString());
    assertEquals(0L, again.get("answered_by_requests"));
    assertEquals(erika, (long) (proxy.arrivals().size() - before), "only the 400s were asked again");
    JsonNode cached = readJson(RunLayout.of(settings("remote-2", Map.of()).run()).transparency())
        .path("teachers").get(0);
    assertEquals(rows - erika, cached.path("cached_rows").asLong(), cached.toString());
    assertEquals(0, cached.path("prompt_tokens").asLong(), "answers from the cache cost nothing this time");

    assertTrue(proxy.answered().values().stream().allMatch(n -> n == 1));
  }

  @Test
  void aPurgedTeacherLeavesNoAnswerInTheResponseCache(@TempDir Path own) {
    Settings s = settings("purged", Map.of("distillery.run.root", own.toUri().toString()));
    Map<String, Long> c = Pipeline.run(s, spark, List.of(Stage.INGEST, Stage.GENERATE), false)
        .get(Stage.GENERATE).counts();
    String cache = RunLayout.of(s.run()).responseCache();
    long answered = c.get("written");
    assertEquals(answered, ResponseCache.read(spark, cache).count());

    Purge.Outcome purged = Purge.purge(s, spark, new Purge.Request(Purge.By.TEACHER, s.teacher().name(), false,
        "test", "terms withdrawn"));
    assertEquals(answered, purged.cacheEntries(), purged.toString());
    assertEquals(0, ResponseCache.read(spark, cache).count(), "no answer of the purged teacher left in the cache");
    assertEquals(Map.of("teacher-labels", answered, "teacher-failures", c.get("failed")),
        purged.rows().get("purged"));
    assertEquals(0, TestRuns.read(spark, s, DatasetKind.TEACHER_LABELS).count());
  }

  private JsonNode readMetrics(Settings s) {
    return readJson(RunLayout.of(s.run()).metrics()).get("metrics");
  }

  private JsonNode readJson(String path) {
    try {
      return StageManifest.json().readTree(HadoopFiles.read(spark, path));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The dry run's estimate, as `distillery generate --dry-run` prints it. */
  private Map<String, Object> estimate(Settings s) {
    return new GenerateJob(TaskRegistry.of(s.task()).generation()).estimate(StageContext.of(s, spark));
  }

  @Test
  void aSpentBudgetStopsSendingKeepsWhatItHasAndALaterRunSendsOnlyTheRest() {
    Map<String, String> other = Map.of("distillery.corpus.max-documents", "120",
        "distillery.teacher.http.system-prompt", "Which language is this?"); // other requests: no cache hits
    Settings dry = settings("budget-1", other);
    Pipeline.run(dry, spark, List.of(Stage.INGEST), false);
    Map<String, Object> estimate = estimate(dry);
    long prompts = (Long) estimate.get("prompts");
    assertEquals(prompts, estimate.get("requests_to_send"), estimate.toString());
    assertTrue((Long) estimate.get("estimated_input_tokens") > prompts * 50, estimate.toString());
    assertEquals(prompts, estimate.get("estimated_output_tokens"));

    Map<String, String> limited = new HashMap<>(other);
    limited.put("distillery.generate.budget.max-tokens", Long.toString((Long) estimate.get("estimated_input_tokens") / 3));
    limited.put("distillery.teacher.http.max-in-flight", "2");
    Map<String, Long> c = Pipeline.run(settings("budget-1", limited), spark, List.of(Stage.GENERATE), false)
        .get(Stage.GENERATE).counts();
    long notSent = c.get("budget_exhausted");
    assertTrue(notSent > prompts / 3 && notSent < prompts, c.toString());
    assertEquals(prompts, c.get("written") + c.get("failed"));
    // Over the budget by at most what was in flight when each task's share ran out: 2 tasks × 2 requests.
    long largest = TestRuns.read(spark, dry, DatasetKind.TEACHER_LABELS)
        .agg(org.apache.spark.sql.functions.max(col(Cols.PROMPT_TOKENS).plus(col(Cols.COMPLETION_TOKENS))))
        .first().getLong(0);
    assertTrue(c.get("prompt_tokens") + c.get("completion_tokens")
        <= (Long) estimate.get("estimated_input_tokens") / 3 + 2 * 2 * largest,
        "over budget by at most what was in flight (largest request " + largest + " tokens): " + c);

    Settings later = settings("budget-2", other);
    Pipeline.run(later, spark, List.of(Stage.INGEST), false);
    Map<String, Object> left = estimate(later);
    long toSend = (Long) left.get("requests_to_send");
    assertEquals(c.get("failed"), toSend, "what was not sent or failed (400s are never cached): " + left);
    Map<String, Integer> before = proxy.attempts();
    Map<String, Long> rest = Pipeline.run(later, spark, List.of(Stage.GENERATE), false)
        .get(Stage.GENERATE).counts();
    assertEquals(0L, rest.get("budget_exhausted"));
    assertEquals(toSend, rest.get("answered_by_requests") + rest.get("failed"), rest.toString());
    assertEquals(c.get("written"), rest.get("answered_from_cache"), rest.toString());
    long asked = proxy.attempts().entrySet().stream()
        .filter(e -> e.getValue() > before.getOrDefault(e.getKey(), 0)).count();
    assertEquals(toSend, asked, "only the rows without an answer were asked");
    assertTrue(proxy.answered().values().stream().allMatch(n -> n == 1), "nothing answered twice");
  }

  /**
   * Two nights whose corpora overlap (tonight's is yesterday's and more): tonight asks the teacher only for its new
   * prompts (and yesterday's 400s, which are never cached); a re-run of tonight asks nothing and changes nothing.
   */
  @Test
  void aNightOverlappingYesterdaysAsksOnlyForItsNewPromptsAndARerunOfItAsksNothing() {
    Map<String, String> nightly = Map.of("distillery.teacher.http.system-prompt", "Nightly:"); // no earlier hits
    Map<String, String> yesterday = new HashMap<>(nightly);
    yesterday.put("distillery.corpus.max-documents", "100");
    Map<String, Long> first = Pipeline.run(settings("nightly-2026-12-01", yesterday), spark,
        List.of(Stage.INGEST, Stage.GENERATE), false).get(Stage.GENERATE).counts();
    Map<String, String> tonight = new HashMap<>(nightly);
    tonight.put("distillery.corpus.max-documents", "160");
    Settings night = settings("nightly-2026-12-02", tonight);
    Map<String, Integer> before = proxy.attempts();
    Map<String, Long> second = Pipeline.run(night, spark, List.of(Stage.INGEST, Stage.GENERATE), false)
        .get(Stage.GENERATE).counts();
    assertTrue(second.get("rows_in") > first.get("rows_in"), second.toString());
    assertEquals(first.get("written"), second.get("answered_from_cache"), "yesterday's answers: " + second);
    long asked = proxy.attempts().entrySet().stream()
        .filter(e -> e.getValue() > before.getOrDefault(e.getKey(), 0)).count();
    assertEquals(second.get("rows_in") - first.get("written"), asked, "only tonight's new prompts (and 400s)");
    assertTrue(proxy.answered().values().stream().allMatch(n -> n == 1), "nothing answered twice");

    Map<String, Integer> afterTonight = proxy.attempts();
    Map<String, Long> rerun = Pipeline.run(night, spark, List.of(Stage.INGEST, Stage.GENERATE), false)
        .get(Stage.GENERATE).counts();
    assertEquals(second, rerun, "the same night again: its stages reused");
    assertEquals(afterTonight, proxy.attempts(), "and nothing asked");
  }

  @Test
  void aMissingApiKeyOrAForbiddingTermsRefuseBeforeAnyRequest() {
    int before = proxy.arrivals().size();
    Settings noKey = settings("no-key", Map.of("distillery.teacher.http.api-key-env", "DISTILLERY_TEST_UNSET_KEY"));
    Pipeline.run(noKey, spark, List.of(Stage.INGEST), false);
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> Pipeline.run(noKey, spark, List.of(Stage.GENERATE), false));
    assertTrue(e.getMessage().contains("DISTILLERY_TEST_UNSET_KEY"), e.getMessage());
    assertEquals(before, proxy.arrivals().size());
  }

  /**
   * A generate JVM killed with SIGKILL half-way through: the rerun asks nothing the killed run had recorded in
   * the response cache, asks everything else exactly once more, and the answers it lost (received but not yet
   * flushed, or still on the wire) are bounded by what was in flight and one flush interval.
   */
  @Test
  void aKilledRunResumesWithoutAskingAgainWhatItWasAnswered() throws Exception {
    // Faults that do not slow the run down: 429s would halve the rate the kill's timing relies on.
    proxy.close();
    proxy = FaultInjectingProxy.start(URI.create("http://127.0.0.1:" + server.address().getPort() + "/v1"),
        (input, attempt) -> {
          Fault f = plan(input, attempt);
          return f == Fault.TOO_MANY_REQUESTS || f == Fault.SLOW ? Fault.SERVER_ERROR : f;
        }, Duration.ofMillis(1500), 0);
    String system = "Name the language of this text."; // requests of their own: no cache hits from other tests
    int inFlight = 4;
    int perMinute = 1200; // slow enough to kill the run half-way
    Map<String, String> more = Map.of("distillery.teacher.http.system-prompt", system,
        "distillery.teacher.http.max-in-flight", Integer.toString(inFlight),
        "distillery.teacher.http.requests-per-minute", Integer.toString(perMinute));
    Settings s = settings("killed", more);
    Pipeline.run(s, spark, List.of(Stage.INGEST), false);
    long prompts = TestRuns.read(spark, s, DatasetKind.PROMPTS).count();

    List<String> args = new ArrayList<>(List.of("generate", "--config",
        TestSettings.repoFile("conf/examples/langid.conf").toString()));
    overrides("killed", more).forEach((k, v) -> args.addAll(List.of("--set", k + "=" + v)));
    Path log = root.resolve("killed-generate.log");
    Process generate = new ProcessBuilder(TestJvms.command("1g", "io.distillery.jobs.cli.DistilleryCli", args))
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
    try {
      while (proxy.answered().size() < prompts / 3) {
        assertTrue(generate.isAlive(), "generate ended before it was killed; its log: " + log);
        assertTrue(System.nanoTime() < deadline, "generate answered too little in 3 minutes; its log: " + log);
        Thread.sleep(20);
      }
    } finally {
      generate.destroyForcibly(); // SIGKILL: no shutdown hook, no task-completion listener, no close()
      generate.waitFor();
    }
    Thread.sleep(200); // requests the proxy was still serving end
    Set<String> answeredBeforeKill = proxy.answered().keySet();
    Map<String, Integer> attemptsBeforeRerun = proxy.attempts();

    // What the killed run recorded: the prompts the rerun's join finds in the cache.
    Set<String> recorded = new HashSet<>();
    Set<String> all = new HashSet<>();
    StageContext ctx = StageContext.of(s, spark);
    for (Row r : GenerateJob.keyed(ctx, ctx.read(DatasetKind.PROMPTS), new RemoteRequests.Text()).select(Cols.TEXT, ResponseCache.RESPONSE)
        .collectAsList()) {
      String input = system + "\n" + r.getString(0);
      all.add(input);
      if (!r.isNullAt(1)) {
        recorded.add(input);
      }
    }
    assertTrue(answeredBeforeKill.containsAll(recorded), "the cache holds only answers the server sent");
    long lost = answeredBeforeKill.size() - recorded.size();
    LoggerFactory.getLogger(RemoteTeacherPipelineTest.class).info("Killed run: {} answered by the "
        + "server, {} recorded in the cache, {} lost", answeredBeforeKill.size(), recorded.size(), lost);
    // Answers the killed JVM received but had not flushed (one interval at the configured rate), or that were
    // still on the wire (at most max-in-flight per task), plus slack for a flush thread starved of CPU.
    long bound = 2L * inFlight + Math.round(perMinute / 60.0 * 1.0);
    assertTrue(lost <= bound, "answered before the kill " + answeredBeforeKill.size() + ", recorded "
        + recorded.size() + ": lost " + lost + " > " + bound);
    assertTrue(recorded.size() >= prompts / 3 - bound, "recorded " + recorded.size());

    // The rerun without the rate limit (not part of a request's key): the same requests, at full speed.
    Map<String, String> unlimited = new HashMap<>(more);
    unlimited.remove("distillery.teacher.http.requests-per-minute");
    Map<String, Long> c = Pipeline.run(settings("killed", unlimited), spark, List.of(Stage.GENERATE), false)
        .get(Stage.GENERATE).counts();
    Map<String, Integer> after = proxy.attempts();
    Set<String> askedAgain = new HashSet<>();
    after.forEach((input, n) -> {
      if (n > attemptsBeforeRerun.getOrDefault(input, 0)) {
        askedAgain.add(input);
      }
    });
    Set<String> askedRecorded = new HashSet<>(askedAgain);
    askedRecorded.retainAll(recorded);
    assertEquals(Set.of(), askedRecorded, "recorded answers were asked again");
    Set<String> missing = new HashSet<>(all);
    missing.removeAll(recorded);
    assertEquals(missing, askedAgain, "the rerun asks exactly what the killed run had not recorded");
    assertEquals(prompts, c.get("rows_in"));
    assertEquals(prompts, c.get("written") + c.get("failed"), c.toString());
    assertEquals(recorded.size(), c.get("answered_from_cache"), c.toString());
    assertEquals(prompts - recorded.size() - c.get("failed"), c.get("answered_by_requests"), c.toString());
    long twice = proxy.answered().values().stream().filter(n -> n > 1).count();
    assertEquals(lost, twice, "only the lost answers were paid for twice");
  }

  /**
   * The API key kept in a Hadoop credential provider (a JCEKS keystore, as `hadoop credential create` makes):
   * serve-teacher requires it, generate sends it, and it appears in no file of the run; an alias the keystore
   * lacks stops generate before any request, naming the alias and the provider.
   */
  @Test
  void anApiKeyFromAHadoopCredentialProviderIsSentAndWrittenNowhere() throws Exception {
    String key = "sk-test-" + UUID.randomUUID();
    String provider = "jceks://file" + root.resolve("teacher-keys.jceks").toAbsolutePath();
    Configuration conf = new Configuration(false);
    conf.set(CredentialProviderFactory.CREDENTIAL_PROVIDER_PATH, provider);
    var keystore = CredentialProviderFactory.getProviders(conf).get(0);
    keystore.createCredentialEntry("distillery.teacher.key", key.toCharArray());
    keystore.flush();

    try (TeacherServer guarded = TeacherServer.start(TestSettings.langid(Map.of("distillery.serve.port", "0")),
        Optional.of(key))) {
      Map<String, String> o = new HashMap<>(Map.of("distillery.corpus.max-documents", "60",
          "distillery.teacher.http.base-url", "http://127.0.0.1:" + guarded.address().getPort() + "/v1",
          "distillery.teacher.http.credential-providers", provider));
      o.put("distillery.teacher.http.api-key-alias", "no.such.alias");
      Settings wrong = settings("credential-key", o);
      Pipeline.run(wrong, spark, List.of(Stage.INGEST), false);
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> Pipeline.run(wrong, spark, List.of(Stage.GENERATE), false));
      assertTrue(e.getMessage().contains("no.such.alias") && e.getMessage().contains(provider), e.getMessage());

      o.put("distillery.teacher.http.api-key-alias", "distillery.teacher.key");
      Settings s = settings("credential-key", o);
      Map<String, Long> c = Pipeline.run(s, spark, List.of(Stage.GENERATE), false).get(Stage.GENERATE).counts();
      assertEquals(60L, c.get("rows_in"));
      assertEquals(60L, c.get("written"), "every request carried the key serve-teacher requires: " + c);
      assertEquals(60L, c.get("answered_by_requests"));
    }
    try (var files = Files.walk(root.resolve("runs"))) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        assertFalse(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1).contains(key), f.toString());
      }
    }
  }
}
