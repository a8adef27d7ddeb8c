package io.distillery.bench;

import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.jobs.pipeline.Pipeline;
import io.distillery.jobs.spark.SparkSessions;
import io.distillery.jobs.stage.StageContext;
import io.distillery.run.Stage;
import io.distillery.run.StageManifest;
import io.distillery.settings.Settings;
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
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.SparkSession;

/**
 * Corpus generation through the executors against the same teacher in a bare loop, for bench/lm.sh: generate
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
    // The prompts, at most a few hundred texts, to the driver for the bare loop.
    List<String> prompts = StageContext.of(settings, spark).read(DatasetKind.PROMPTS)
        .select(Cols.TEXT).orderBy(Cols.TEXT).as(Encoders.STRING()).collectAsList();
    Llama2Teacher teacher = Llama2Teacher.shared(settings.teacher());
    List<Double> ratios = new ArrayList<>();
    double pipelineRate = 0;
    double bareRate = 0;
    for (int round = 1; round <= rounds; round++) {
      long t0 = System.nanoTime();
      StageManifest generate = Pipeline.run(settings, spark, List.of(Stage.GENERATE), true).get(Stage.GENERATE);
      double seconds = (System.nanoTime() - t0) / 1e9;
      long tokens = ((Number) generate.details().get("completion_tokens")).longValue();
      pipelineRate = tokens / seconds;
      bareRate = bare(teacher, settings, prompts, samples);
      ratios.add(pipelineRate / bareRate);
      System.out.printf("round %d: generate %d tokens in %.1f s = %.0f tokens/s (stage wall time: Spark, tables and "
          + "manifest included); bare loop on 2 threads %.0f tokens/s%n", round, tokens, seconds, pipelineRate,
          bareRate);
    }
    List<Double> sorted = new ArrayList<>(ratios);
    sorted.sort(Double::compare);
    System.out.printf("RATIO generate / bare teacher tokens/s        = %.3f   (median of %d rounds %s; target >= "
        + "0.90)%n", sorted.get(sorted.size() / 2), rounds, ratios);
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
  private static double bare(Llama2Teacher teacher, Settings settings, List<String> prompts, int samples)
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
            for (int s = 0; s < samples; s++) {
              tokens += teacher.complete(prompts.get(i), sampling.withSeed(sampling.seed() + s), k).tokens().length;
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
