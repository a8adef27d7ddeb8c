package io.distillery.jobs;

import io.distillery.settings.Settings;
import java.nio.file.Path;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** Tests of single stages on {@link TestRuns#textCorpus}, in Spark local mode, each run under one temporary root. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class TextCorpusRuns {
  @TempDir
  protected static Path root;

  protected Path corpus;
  protected SparkSession spark;

  @BeforeAll
  void writeTheCorpus() throws Exception {
    corpus = TestRuns.textCorpus(root);
    spark = TestRuns.spark(settings("first", Map.of()));
  }

  /** Small settings for run {@code runId} over the corpus, with {@code more} over them. */
  protected Settings settings(String runId, Map<String, String> more) {
    return TestRuns.text(root, runId, corpus, more);
  }
}
