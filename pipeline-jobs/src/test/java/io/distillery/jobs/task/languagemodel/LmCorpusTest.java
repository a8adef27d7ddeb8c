package io.distillery.jobs.task.languagemodel;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.dataset.PackedTokens;
import io.distillery.dataset.PackedTopK;
import io.distillery.jobs.TestRuns;
import io.distillery.jobs.pipeline.Pipeline;
import io.distillery.run.Stage;
import io.distillery.run.StageManifest;
import io.distillery.settings.Settings;
import io.distillery.teacher.Llama2Teacher;
import io.distillery.teacher.lm.Llama2Tokenizer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Corpus generation with the shipped language model (conf/examples/stories.conf), in Spark local mode: every prompt
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
    Path repo = Path.of(System.getProperty("test.repo.root", ".."));
    Map<String, String> o = new HashMap<>();
    o.put("distillery.run.root", root.toUri().toString());
    o.put("distillery.spark.master", "local[2]");
    o.put("distillery.spark.partitions", "2");
    o.put("distillery.corpus.path", repo.resolve("conf/examples/story-prompts.txt").toString());
    o.put("distillery.generate.samples", "2");
    o.put("distillery.generate.sampling.max-tokens", "24");
    settings = Settings.load(Optional.of(repo.resolve("conf/examples/stories.conf")), o);
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
  void everyPromptIsCompletedOncePerSampleWithItsTokensAndTopK() {
    Map<String, Long> c = done.get(Stage.GENERATE).counts();
    long prompts = done.get(Stage.INGEST).counts().get("written");
    assertEquals(24, prompts);
    assertEquals(2 * prompts, c.get("rows_in"), c.toString());
    assertEquals(c.get("rows_in"), c.get("written") + c.get("failed"), c.toString());
    assertEquals(0L, c.get("failed"));
    Llama2Teacher teacher = Llama2Teacher.shared(settings.teacher());
    Llama2Tokenizer tokenizer = teacher.tokenizer();
    List<Row> rows = TestRuns.read(spark, settings, DatasetKind.TEACHER_COMPLETIONS).collectAsList(); // 48 rows
    assertEquals(2 * prompts, rows.size());
    for (Row r : rows) {
      String prompt = r.getAs(Cols.TEXT);
      long sample = r.getAs(Cols.SAMPLE);
      assertEquals(r.getAs(Cols.PROMPT_ID) + "#" + sample, r.getAs(Cols.ROW_ID));
      assertEquals(1 + sample, (long) r.getAs(Cols.SEED), "sample i has seed 1 + i");
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

  private static int[] tokens(byte[] packed) {
    return PackedTokens.ids(packed);
  }
}
