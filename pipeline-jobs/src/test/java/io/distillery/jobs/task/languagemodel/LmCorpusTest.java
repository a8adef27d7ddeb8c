package io.distillery.jobs.task.languagemodel;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.distillery.corpus.Split;
import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.dataset.PackedTokens;
import io.distillery.dataset.PackedTopK;
import io.distillery.jobs.TestRuns;
import io.distillery.jobs.export.CorpusExport;
import io.distillery.jobs.pipeline.Pipeline;
import io.distillery.run.Stage;
import io.distillery.run.StageManifest;
import io.distillery.settings.Settings;
import io.distillery.teacher.Llama2Teacher;
import io.distillery.teacher.lm.Llama2Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Corpus generation with the shipped language model (conf/examples/stories-corpus.conf), in Spark local mode: every prompt
 * completed twice, each completion with its tokens and per-position top-k, reproducible from its seed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LmCorpusTest {
  @TempDir
  static Path root;

  private Settings settings;
  private SparkSession spark;
  private Map<Stage, StageManifest> done;

  @BeforeAll
  void generateTheCorpus() {
    settings = StoriesRuns.settings("stories-corpus.conf", root, 24, Map.of());
    spark = TestRuns.spark(settings);
    done = Pipeline.runAll(settings, spark);
  }

  @Test
  void aRunWithoutAStudentIsIngestAndGenerate() {
    assertEquals(List.of(Stage.INGEST, Stage.GENERATE), List.copyOf(done.keySet()));
    IllegalArgumentException train = assertThrows(IllegalArgumentException.class,
        () -> Pipeline.run(settings, spark, List.of(Stage.TRAIN), false));
    assertTrue(train.getMessage().contains("student.kind = none") && train.getMessage().contains("train"),
        train.getMessage());
  }

  @Test
  void everyPromptIsCompletedOncePerSampleWithItsTokensAndTopK() throws Exception {
    Map<String, Long> c = done.get(Stage.GENERATE).counts();
    long prompts = done.get(Stage.INGEST).counts().get("written");
    assertEquals(StoriesRuns.prompts(), prompts);
    assertEquals(2 * prompts, c.get("rows_in"), c.toString());
    assertEquals(c.get("rows_in"), c.get("written") + c.get("failed") + c.get("quarantined"), c.toString());
    assertEquals(0L, c.get("failed"));
    Llama2Teacher teacher = Llama2Teacher.shared(settings.teacher());
    Llama2Tokenizer tokenizer = teacher.tokenizer();
    List<Row> rows = TestRuns.read(spark, settings, DatasetKind.TEACHER_COMPLETIONS).collectAsList(); // 2 per prompt
    assertEquals(c.get("written"), rows.size());
    assertTrue(c.get("quarantined") < prompts / 10, "sampled completions are rarely quarantined: " + c);
    Set<Long> seeds = new HashSet<>();
    for (Row r : rows) {
      String prompt = r.getAs(Cols.TEXT);
      long sample = r.getAs(Cols.SAMPLE);
      assertEquals(r.getAs(Cols.PROMPT_ID) + "#" + sample, r.getAs(Cols.ROW_ID));
      assertTrue(seeds.add(r.getAs(Cols.SEED)), "every sample of every prompt has a seed of its own: " + r);
      int[] tokens = tokens(r.getAs(Cols.TOKEN_IDS));
      int[] promptIds = tokenizer.encode(prompt, true);
      assertEquals(r.getAs(Cols.COMPLETION), tokenizer.decode(promptIds[promptIds.length - 1], tokens));
      assertTrue(tokens.length > 0 && tokens.length <= 24, tokens.length + " tokens");
      assertEquals("length".equals(r.getAs(Cols.FINISH_REASON)), tokens.length == 24, r.toString());
      byte[] topK = r.getAs(Cols.TOP_K);
      assertEquals(20L, (long) r.getAs(Cols.TOP_K_SIZE));
      float[][] logprobs = PackedTopK.logprobs(topK, 20);
      int[][] topIds = PackedTopK.ids(topK, 20);
      float[] tokenLogprobs = PackedTokens.logprobs((byte[]) r.getAs(Cols.TOKEN_LOGPROBS));
      assertEquals(tokens.length, logprobs.length);
      assertEquals(tokens.length, tokenLogprobs.length);
      for (int p = 0; p < tokens.length; p++) {
        float[] position = logprobs[p];
        for (int i = 1; i < position.length; i++) {
          assertTrue(position[i] <= position[i - 1], "most probable first");
        }
        assertTrue(tokenLogprobs[p] <= position[0], "no token more probable than the top one");
        for (int i = 0; i < topIds[p].length; i++) {
          if (topIds[p][i] == tokens[p]) {
            assertEquals(position[i], tokenLogprobs[p], 1e-6, "the sampled token's log-probability is its top-k one");
          }
        }
      }
      assertEquals(promptIds.length, (long) r.getAs(Cols.PROMPT_TOKENS));
      assertEquals(tokens.length, (long) r.getAs(Cols.COMPLETION_TOKENS));
      assertEquals("MIT", r.getAs(Cols.TERMS));
    }
    assertEquals(rows.size(), TestRuns.read(spark, settings, DatasetKind.TEACHER_COMPLETIONS)
        .select(Cols.REQUEST_HASH).distinct().count(), "one request per sample");
  }

  @Test
  void theManifestRecordsTheVocabularyAndTheBytesPerToken() {
    Map<String, Object> d = done.get(Stage.GENERATE).details();
    assertEquals(Llama2Teacher.shared(settings.teacher()).tokenizerFingerprint(), d.get("tokenizer_fingerprint"));
    assertEquals(80.0, ((Number) d.get("bytes_per_token")).doubleValue(), 1e-9, "4 bytes x k = 20");
    assertEquals(20, ((Number) d.get("top_k")).intValue());
  }

  @Test
  void aCompletionIsReproducibleFromItsSeed() {
    Row one = TestRuns.read(spark, settings, DatasetKind.TEACHER_COMPLETIONS).where(col(Cols.SAMPLE).equalTo(1))
        .orderBy(Cols.ROW_ID).first();
    Settings.Sampling sampling = settings.generate().sampling().withSeed(one.getAs(Cols.SEED));
    var again = Llama2Teacher.shared(settings.teacher()).complete(one.getAs(Cols.TEXT), sampling, 20);
    assertArrayEquals(again.tokens(), tokens(one.getAs(Cols.TOKEN_IDS)));
    assertFalse(again.text().isEmpty());
  }

  @Test
  void theCorpusExportsAsChatJsonlAndAsCompletionParquetWithProvenance() throws Exception {
    long corpus = done.get(Stage.GENERATE).counts().get("written");
    Path chat = root.resolve("export-chat");
    assertEquals(corpus, CorpusExport.export(settings, spark, new CorpusExport.Request(CorpusExport.Format.JSONL,
        CorpusExport.Style.CHAT, false, Optional.empty(), chat.toString())));
    ObjectMapper json = new ObjectMapper();
    List<String> lines = new ArrayList<>();
    try (var files = Files.list(chat)) {
      for (Path f : files.filter(f -> f.getFileName().toString().endsWith(".json")).sorted().toList()) {
        lines.addAll(Files.readAllLines(f));
      }
    }
    assertEquals(corpus, lines.size(), "one JSON object a line, one line a completion");
    Map<String, String> completionsByPrompt = new HashMap<>();
    TestRuns.read(spark, settings, DatasetKind.TEACHER_COMPLETIONS).where(col(Cols.SAMPLE).equalTo(0))
        .collectAsList().forEach(r -> completionsByPrompt.put(r.getAs(Cols.TEXT), r.getAs(Cols.COMPLETION)));
    int matched = 0;
    for (String line : lines) {
      JsonNode o = json.readTree(line);
      List<String> fields = new ArrayList<>();
      o.fieldNames().forEachRemaining(fields::add);
      assertEquals(List.of("messages"), fields, "OpenAI's fine-tuning form: " + line);
      assertEquals("user", o.at("/messages/0/role").asText());
      assertEquals("assistant", o.at("/messages/1/role").asText());
      String completion = o.at("/messages/1/content").asText();
      matched += completion.equals(completionsByPrompt.get(o.at("/messages/0/content").asText())) ? 1 : 0;
    }
    assertEquals(completionsByPrompt.size(), matched, "every prompt's first sample, word for word");

    Path parquet = root.resolve("export-completion");
    long test = CorpusExport.export(settings, spark, new CorpusExport.Request(CorpusExport.Format.PARQUET,
        CorpusExport.Style.COMPLETION, true, Optional.of(Split.TEST), parquet.toString()));
    var exported = spark.read().parquet(parquet.toString());
    assertEquals(TestRuns.read(spark, settings, DatasetKind.TEACHER_COMPLETIONS).where(col(Cols.SPLIT).equalTo("test"))
        .count(), test);
    List<String> names = List.of(exported.columns());
    assertTrue(names.containsAll(List.of("prompt", "completion", Cols.TEACHER_NAME, Cols.TEACHER_SHA256, Cols.TERMS,
        Cols.SEED, Cols.FINISH_REASON)), names.toString());
    assertFalse(names.contains(Cols.TOP_K), "packed token columns stay in the table");
    IllegalStateException again = assertThrows(IllegalStateException.class, () -> CorpusExport.export(settings,
        spark, new CorpusExport.Request(CorpusExport.Format.PARQUET, CorpusExport.Style.COMPLETION, true,
            Optional.empty(), chat.toString())));
    assertTrue(again.getMessage().contains("already exists"), again.getMessage());
  }

  @Test
  void greedySamplesOfAPromptAreDuplicatesAndCutAnswersAreTruncatedWhenWholeOnesAreAsked() {
    Map<String, String> greedy = Map.of("distillery.run.id", "stories-greedy", "distillery.corpus.max-documents",
        "20", "distillery.generate.sampling.temperature", "0");
    Settings dup = StoriesRuns.settings("stories-corpus.conf", root, 8, greedy);
    Map<String, Long> c = Pipeline.run(dup, spark, List.of(Stage.INGEST, Stage.GENERATE), false)
        .get(Stage.GENERATE).counts();
    assertEquals(40L, c.get("rows_in"), c.toString());
    assertEquals(c.get("rows_in"), c.get("written") + c.get("failed") + c.get("quarantined"), c.toString());
    assertTrue(c.get("quarantined_duplicate_completion") >= 20, "every prompt's second greedy sample: " + c);
    List<Row> kept = TestRuns.read(spark, dup, DatasetKind.TEACHER_COMPLETIONS).collectAsList();
    assertEquals(kept.size(), kept.stream().map(r -> r.getAs(Cols.COMPLETION)).distinct().count(), "no duplicates");
    var quarantine = TestRuns.read(spark, dup, DatasetKind.TEACHER_QUARANTINE);
    assertEquals(c.get("quarantined"), quarantine.count());
    Row first = quarantine.orderBy(Cols.ROW_ID).first();
    assertEquals("MIT", first.getAs(Cols.TERMS), "with the teacher's provenance");
    assertTrue(first.<String>getAs(Cols.ROW_ID).endsWith("#1"), "the second sample is the duplicate: " + first);
    assertEquals(c.get("quarantined"), quarantine.where(col(Cols.REASON).equalTo("duplicate_completion")).count());

    Map<String, String> whole = new HashMap<>(greedy);
    whole.put("distillery.run.id", "stories-whole");
    whole.put("distillery.generate.quality.whole-answers", "true");
    Map<String, Long> w = Pipeline.run(StoriesRuns.settings("stories-corpus.conf", root, 8, whole), spark,
        List.of(Stage.INGEST, Stage.GENERATE), false).get(Stage.GENERATE).counts();
    assertEquals(w.get("rows_in"), w.get("written") + w.get("failed") + w.get("quarantined"), w.toString());
    assertTrue(w.get("quarantined_truncated") >= 20, "8 tokens end most stories mid-sentence: " + w);
  }

  private static int[] tokens(byte[] packed) {
    return PackedTokens.ids(packed);
  }
}
