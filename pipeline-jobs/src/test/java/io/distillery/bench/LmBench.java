package io.distillery.bench;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.sum;

import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.jobs.generate.GenerateJob;
import io.distillery.jobs.pipeline.Pipeline;
import io.distillery.jobs.pipeline.TaskRegistry;
import io.distillery.jobs.spark.SparkSessions;
import io.distillery.jobs.stage.StageContext;
import io.distillery.jobs.task.TaskGeneration;
import io.distillery.run.Stage;
import io.distillery.run.StageManifest;
import io.distillery.settings.Settings;
import io.distillery.settings.TaskKind;
import io.distillery.teacher.Llama2Teacher;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Corpus generation through the executors against the same teacher in a bare loop, for bench/lm.sh: the generate
 * stage's executor path (its teacher pass over the requests, as GenerateJob runs it), the whole generate stage
 * (forced, so the teacher really runs) on local[2], then the same prompts and seeds completed by two plain threads
 * in the same JVM, alternating for ROUNDS rounds; and the stored bytes per generated token at k = 20 and k = 50.
 * Prints ratios; absolute rates on a shared machine are noise.
 *
 * <p>Usage: LmBench CONFIG RUN_ROOT SAMPLES ROUNDS
 */
public final class LmBench {
  private LmBench() {}

  public static void main(String[] args) throws Exception {
    Path config = Path.of(args[0]);
    String root = args[1];
    int samples = Integer.parseInt(args[2]);
    int rounds = Integer.parseInt(args[3]);
    Settings settings = settings(config, root, samples, 20);
    SparkSession spark = SparkSessions.create(settings);
    Pipeline.run(settings, spark, List.of(Stage.INGEST), false);
    StageContext ctx = StageContext.of(settings, spark);
    // The prompts, at most a few hundred, to the driver for the bare loop.
    List<Row> prompts = ctx.read(DatasetKind.PROMPTS).select(Cols.ROW_ID, Cols.TEXT).orderBy(Cols.ROW_ID)
        .collectAsList();
    Llama2Teacher teacher = Llama2Teacher.shared(settings.teacher());
    TaskGeneration generation = TaskRegistry.of(TaskKind.LANGUAGE_MODEL).generation();
    GenerateJob job = new GenerateJob(generation);
    List<Double> executorRatios = new ArrayList<>();
    List<Double> stageRatios = new ArrayList<>();
    for (int round = 1; round <= rounds; round++) {
      long t0 = System.nanoTime();
      Dataset<Row> requests = generation.requests(ctx, ctx.read(DatasetKind.PROMPTS))
          .repartition(settings.spark().partitions());
      long executorTokens = job.inProcessAttempts(settings, requests).agg(sum(col(Cols.COMPLETION_TOKENS)))
          .first().getLong(0);
      double executorRate = executorTokens / ((System.nanoTime() - t0) / 1e9);
      long t1 = System.nanoTime();
      StageManifest generate = Pipeline.run(settings, spark, List.of(Stage.GENERATE), true).get(Stage.GENERATE);
      double seconds = (System.nanoTime() - t1) / 1e9;
      long tokens = ((Number) generate.details().get("completion_tokens")).longValue();
      double stageRate = tokens / seconds;
      double bareRate = bare(teacher, settings, prompts, samples);
      executorRatios.add(executorRate / bareRate);
      stageRatios.add(stageRate / bareRate);
      System.out.printf("round %d: executors %.0f tokens/s (the stage's teacher pass: %d tokens); generate stage %d "
          + "tokens in %.1f s = %.0f tokens/s (its wall time: Spark, quality gates, tables, manifest); bare loop on "
          + "2 threads %.0f tokens/s%n", round, executorRate, executorTokens, tokens, seconds, stageRate, bareRate);
    }
    System.out.printf("RATIO executors / bare teacher tokens/s       = %.3f   (median of %d rounds %s; target >= "
        + "0.90)%n", median(executorRatios), rounds, executorRatios);
    System.out.printf("RATIO generate stage / bare teacher tokens/s  = %.3f   (median of %d rounds %s: the whole "
        + "stage's wall time)%n", median(stageRatios), rounds, stageRatios);
    StageManifest k20 = Pipeline.run(settings, spark, List.of(Stage.GENERATE), false).get(Stage.GENERATE);
    Settings at50 = settings(config, root, samples, 50);
    StageManifest k50 = Pipeline.run(at50, spark, List.of(Stage.INGEST, Stage.GENERATE), false)
        .get(Stage.GENERATE);
    System.out.printf("stored bytes per generated token (top-k column, before Parquet compression): k = 20: %.1f, "
        + "k = 50: %.1f   (DistillKit: about 114 at k = 50, 300 at k = 128)%n",
        ((Number) k20.details().get("bytes_per_token")).doubleValue(),
        ((Number) k50.details().get("bytes_per_token")).doubleValue());
    spark.stop();
  }

  private static double median(List<Double> values) {
    List<Double> sorted = new ArrayList<>(values);
    sorted.sort(Double::compare);
    return sorted.get(sorted.size() / 2);
  }

  private static Settings settings(Path config, String root, int samples, int k) {
    Map<String, String> o = new HashMap<>();
    o.put("distillery.run.root", root);
    o.put("distillery.run.id", "lm-bench-k" + k);
    o.put("distillery.spark.master", "local[2]");
    o.put("distillery.spark.partitions", "2");
    o.put("distillery.generate.samples", Integer.toString(samples));
    o.put("distillery.teacher.top-k", Integer.toString(k));
    o.put("distillery.student.kind", "none");
    return Settings.load(Optional.of(config), o);
  }

  /** Every prompt and sample completed as generate does (same sampling and seeds), on two threads. */
  private static double bare(Llama2Teacher teacher, Settings settings, List<Row> prompts, int samples)
      throws Exception {
    Settings.Sampling sampling = settings.generate().sampling();
    int k = settings.teacher().topK();
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      long t0 = System.nanoTime();
      List<Future<Long>> parts = new ArrayList<>();
      for (int thread = 0; thread < 2; thread++) {
        int first = thread;
        parts.add(pool.submit(() -> {
          long tokens = 0;
          for (int i = first; i < prompts.size(); i += 2) {
            Row prompt = prompts.get(i);
            for (int s = 0; s < samples; s++) {
              tokens += teacher.complete(prompt.getString(1), sampling.forSample(prompt.getString(0), s), k)
                  .tokens().length;
            }
          }
          return tokens;
        }));
      }
      long tokens = 0;
      for (Future<Long> f : parts) {
        tokens += f.get();
      }
      return tokens / ((System.nanoTime() - t0) / 1e9);
    } finally {
      pool.shutdown();
    }
  }
}
