package io.distillery.bench;

import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.jobs.generate.GenerateJob;
import io.distillery.jobs.pipeline.TaskRegistry;
import io.distillery.jobs.spark.HadoopFiles;
import io.distillery.jobs.spark.SparkSessions;
import io.distillery.jobs.spark.Staging;
import io.distillery.jobs.spark.Tables;
import io.distillery.jobs.stage.StageContext;
import io.distillery.run.RunLayout;
import io.distillery.run.Stage;
import io.distillery.run.StageDetails;
import io.distillery.run.StageManifest;
import io.distillery.run.TableSnapshot;
import io.distillery.settings.Settings;
import io.distillery.student.EarlierStudentPath;
import io.distillery.student.StudentModel;
import io.distillery.student.StudentParts;
import io.distillery.teacher.OnnxEmbeddingTeacher;
import io.distillery.teacher.TokenContexts;
import io.distillery.tokenizer.Tokenizer;
import io.distillery.util.Hashing;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Side-by-side measurements for bench/run.sh, on a run the script has just made. Prints ratios; absolute
 * rates on a shared machine are noise, ratios measured in the same process minutes apart are the signal.
 *
 * <p>Usage: Bench RUN_ROOT RUN_ID ROWS
 */
public final class Bench {
  private static final Logger LOG = LoggerFactory.getLogger(Bench.class);
  private static final int FAN_OUT_ROUNDS = 3;
  private static final int STUDENT_ROUNDS = 5;
  private static final int TABLE_ROUNDS = 3;
  private static final long STEADY_WINDOW_NANOS = 1_000_000_000L;

  public static void main(String[] args) throws Exception {
    String root = args[0];
    String runId = args[1];
    int rows = Integer.parseInt(args[2]);
    Settings settings = Settings.load(Optional.empty(), Map.of("distillery.run.root", root,
        "distillery.run.id", runId, "distillery.spark.master", "local[2]"));
    SparkSession spark = SparkSessions.create(settings);
    RunLayout layout = RunLayout.of(settings.run());
    Dataset<Row> prompts = StageContext.of(settings, spark).read(DatasetKind.PROMPTS).orderBy(Cols.ROW_ID).limit(rows)
        .cache();
    List<String> texts = prompts.select(Cols.TEXT).as(Encoders.STRING()).collectAsList(); // bench input only
    int cores = 2;

    // 1. Teacher fan-out: the generate stage's executor function in Spark local[2] vs a bare ONNX Runtime
    //    loop on two threads (one session, batch size 1, as the executors run it), same texts, same cores.
    //    bench/run.sh passes 14,000 prompts: 1,750 rows per task in the default 8 partitions, near the generate
    //    stage's one job of about 2,000 per task. Each job's start and commit is fixed: at 6,000 prompts (750 per task)
    //    it was most of what the executors lost against the bare loop (bench/README.md).
    // Both sides measured warm: a full pass each first (on 2 cores the JIT compiling Spark's writer path
    // competes with the first pass), then the timed passes, bare / Spark / bare.
    // Rounds of bare / Spark / bare: each round's ratio is Spark over the mean of the bare passes around it, and
    // the median round is reported (one pass is a few seconds; the machine's drift between passes is the noise).
    double[] firstPass = sparkFanOut(spark, settings, prompts, root + "/bench-fanout");
    double bare = bareOnnx(settings.teacher(), texts, cores);
    // {ratio, executors emb/s, bare before, bare after, teacher share of core time, teacher share within tasks}
    List<double[]> rounds = new ArrayList<>();
    for (int round = 0; round < FAN_OUT_ROUNDS; round++) {
      double[] executors = sparkFanOut(spark, settings, prompts, root + "/bench-fanout");
      double after = bareOnnx(settings.teacher(), texts, cores);
      rounds.add(new double[] {executors[0] / ((bare + after) / 2), executors[0], bare, after, executors[1],
          executors[2]});
      bare = after;
    }
    rounds.sort(Comparator.comparingDouble(r -> r[0]));
    double[] median = rounds.get(rounds.size() / 2);

    // 3. What summing the teacher's hidden states per token (the by-product for student.init = teacher-context)
    //    costs the teacher: the same texts, one thread, embed alone vs embed and collect, alternated.
    OnnxEmbeddingTeacher single = OnnxEmbeddingTeacher.shared(settings.teacher());
    TokenContexts contexts = new TokenContexts(single.dimension());
    List<String> probe = texts.subList(0, Math.min(500, texts.size()));
    long alone = 0;
    long collecting = 0;
    for (int round = 0; round < 3; round++) {
      long a0 = System.nanoTime();
      probe.forEach(single::embed);
      long a1 = System.nanoTime();
      probe.forEach(t -> single.embed(t, contexts));
      long a2 = System.nanoTime();
      alone += a1 - a0;
      collecting += a2 - a1;
    }

    // 2. Student vs teacher, one thread each, same texts, from the model the run trained.
    byte[] model = HadoopFiles.read(spark, layout.studentModel());
    StudentModel student = StudentModel.load(model, new StudentModel.Spec(Hashing.sha256Hex(model),
        settings.teacher().tokenizer(), settings.teacher().maxTokens(), settings.student().maxTokens()));
    OnnxEmbeddingTeacher teacher = OnnxEmbeddingTeacher.shared(settings.teacher());
    // Warm both on 1,000 texts, then time on texts neither has seen (the student's word cache starts with
    // none of them): the student on up to 8,000 so its window is long enough to measure, the teacher on 1,000.
    List<String> pool = StageContext.of(settings, spark).read(DatasetKind.PROMPTS).orderBy(Cols.ROW_ID).limit(9000)
        .select(Cols.TEXT).as(Encoders.STRING()).collectAsList(); // bench input only
    List<String> warm = pool.subList(0, 1000);
    List<String> sample = pool.subList(1000, pool.size());
    for (String t : warm.subList(0, 20)) {
      teacher.embed(t);
    }
    List<String> teacherSample = sample.subList(0, Math.min(1000, sample.size()));
    int batch = settings.evaluate().studentBatchSize();
    for (int pass = 0; pass < 3; pass++) {
      for (int i = 0; i < warm.size(); i += batch) {
        student.embed(warm.subList(i, Math.min(warm.size(), i + batch)));
      }
    }
    // Interleaved: STUDENT_ROUNDS rounds, each a slice of the teacher's texts then a slice of the student's, so both
    // see the machine as it is at that second (one student pass is a fraction of a second; alone it measured the
    // noise).
    // The student's path before the word-row cache and the per-row table runs beside it, each on unseen texts of its
    // own (each path has its own word cache): the new path on the first half of the sample, the earlier on the second.
    EarlierStudentPath earlier = new EarlierStudentPath(model, Tokenizer.open(settings.teacher().tokenizer(),
        settings.teacher().maxTokens()), settings.student().maxTokens());
    for (int pass = 0; pass < 3; pass++) {
      embedAll(warm, batch, earlier::embed);
    }
    List<String> fresh = sample.subList(0, sample.size() / 2);
    List<String> referenceFresh = sample.subList(sample.size() / 2, sample.size());
    long teacherNanos = 0;
    long studentNanos = 0;
    long referenceNanos = 0;
    long seenNanos = 0;
    long seenReferenceNanos = 0;
    for (int round = 0; round < STUDENT_ROUNDS; round++) {
      long t0 = System.nanoTime();
      for (String t : slice(teacherSample, round)) {
        teacher.embed(t);
      }
      long s0 = System.nanoTime();
      embedAll(slice(fresh, round), batch, student::embed);
      long r0 = System.nanoTime();
      embedAll(slice(referenceFresh, round), batch, earlier::embed);
      long r1 = System.nanoTime();
      teacherNanos += s0 - t0;
      studentNanos += r0 - s0;
      referenceNanos += r1 - r0;
    }
    // The same texts again, every word now in each path's cache (a long stream's steady state), over windows of a
    // second each, alternating: a pass over a few thousand texts is tens of milliseconds, shorter than the noise.
    long seenTexts = 0;
    long seenReferenceTexts = 0;
    for (int round = 0; round < STUDENT_ROUNDS; round++) {
      long r0 = System.nanoTime();
      do {
        embedAll(fresh, batch, student::embed);
        seenTexts += fresh.size();
      } while (System.nanoTime() - r0 < STEADY_WINDOW_NANOS);
      long r1 = System.nanoTime();
      do {
        embedAll(referenceFresh, batch, earlier::embed);
        seenReferenceTexts += referenceFresh.size();
      } while (System.nanoTime() - r1 < STEADY_WINDOW_NANOS);
      long r2 = System.nanoTime();
      seenNanos += r1 - r0;
      seenReferenceNanos += r2 - r1;
    }
    // Where a cached sentence's time goes: the parts side by side, each in turn for half a second, 7 rounds.
    Map<String, Double> parts = StudentParts.measure(model, Tokenizer.open(settings.teacher().tokenizer(),
        settings.teacher().maxTokens()), settings.student().maxTokens(), fresh, 7, 500_000_000L);
    double teacherRate = teacherSample.size() / (teacherNanos / 1e9);
    double studentRate = fresh.size() / (studentNanos / 1e9);
    double referenceRate = referenceFresh.size() / (referenceNanos / 1e9);
    double seenRate = seenTexts / (seenNanos / 1e9);
    double seenReferenceRate = seenReferenceTexts / (seenReferenceNanos / 1e9);

    // 2b. The teacher at its best on the cores (batched, threads or intra-op threads, whichever is fastest here) and
    //     the student on as many threads, on the same texts.
    double[] teacherVariants = TeacherAtItsBest.measure(settings.teacher(), teacherSample, cores, 2);
    double teacherBest = Arrays.stream(teacherVariants).max().orElseThrow();
    double studentThreads = 0;
    double studentThreadsCold = 0;
    for (int round = 0; round < 3; round++) {
      double[] rates = onThreads(sample, cores, batch, student::embed);
      studentThreadsCold = Math.max(studentThreadsCold, rates[0]);
      studentThreads = Math.max(studentThreads, rates[1]);
    }

    // 4. The table layer: the generate stage's largest write (teacher-embeddings, every row of the run) as an Iceberg
    //    commit vs as the plain Parquet partition it was before, and a checked snapshot read vs a directory read,
    //    alternating; the overhead set against the generate stage's time.
    double[] table = tableLayer(spark, settings, root + "/bench-tables");
    double generateSeconds = StageManifest.fromJson(HadoopFiles.read(spark, layout.manifest(Stage.GENERATE)))
        .details().get(StageDetails.ELAPSED_SECONDS) instanceof Number n ? n.doubleValue() : Double.NaN;

    String metrics = new String(HadoopFiles.read(spark, layout.metrics()), StandardCharsets.UTF_8);
    var m = StageManifest.json().readTree(metrics).get("metrics");
    System.out.printf("%n== Distillery bench (run %s, %d prompts, %d cores) ==%n", runId, texts.size(), cores);
    System.out.printf("teacher fan-out, median of %d rounds: executors %.1f emb/s, bare ONNX Runtime %.1f / %.1f emb/s"
        + " (before/after); executors spent %.0f%% of their core time inside the teacher (%.0f%% of the time from a"
        + " task's first answer to its last); rounds' ratios %s%n",
        FAN_OUT_ROUNDS, median[1], median[2], median[3], 100 * median[4], 100 * median[5],
        rounds.stream().map(r -> String.format("%.3f", r[0])).toList());
    System.out.printf("RATIO executor / bare ONNX Runtime embeddings/s   = %.3f   (target >= 0.90; first,"
        + " cold Spark pass %.3f)%n", median[0], firstPass[0] / median[2]);
    System.out.printf("RATIO teacher embed+collect contexts / embed alone = %.3f  (time, one thread, %d texts x 3)%n",
        collecting / (double) alone, probe.size());
    System.out.printf("student %.0f emb/s on %d texts, teacher %.1f emb/s on %d of them, one thread each, texts"
        + " neither saw warming up, interleaved in %d rounds%n", studentRate, fresh.size(), teacherRate,
        teacherSample.size(), STUDENT_ROUNDS);
    System.out.printf("RATIO student / teacher throughput               = %.1fx (target >= 100x)%n",
        studentRate / teacherRate);
    System.out.printf("student, one thread, interleaved in %d rounds, %d texts each path: unseen texts %.0f emb/s,"
        + " the path before (tokenizer ids, a lookup per token, one flat table) %.0f; the same texts again (every word"
        + " cached), %d windows of 1 s each, alternating: %.0f and %.0f%n", STUDENT_ROUNDS, fresh.size(), studentRate,
        referenceRate, STUDENT_ROUNDS, seenRate, seenReferenceRate);
    System.out.printf("RATIO student / its path before, unseen texts    = %.2fx; the same texts again %.2fx (target >="
        + " 3x)%n", studentRate / referenceRate, seenRate / seenReferenceRate);
    System.out.printf("student parts, one thread, %d texts, words cached, each part in turn for 0.5 s, 5 rounds after"
        + " 2 warming up, microseconds a sentence: %s%n", fresh.size(), parts.entrySet().stream()
        .map(e -> String.format("%s %.3f", e.getKey(), e.getValue())).toList());
    System.out.printf("RATIO earlier path / whole path, parts in turn     = %.2fx bf16 rows, %.2fx float rows (row sum"
        + " float / bf16 %.2fx, head %.2fx)%n", parts.get("earlier path") / parts.get("whole path, bf16 rows"),
        parts.get("earlier path") / parts.get("whole path, float rows"),
        parts.get("row sum, float") / parts.get("row sum, bf16"), parts.get("head, float") / parts.get("head, bf16"));
    List<TeacherAtItsBest.Variant> variants = TeacherAtItsBest.variants(cores);
    System.out.printf("teacher on %d cores, best of 2 rounds, %d texts: %s%n", cores, teacherSample.size(),
        IntStream.range(0, variants.size()).mapToObj(v -> String.format("%s %.1f emb/s", variants.get(v).label(),
            teacherVariants[v])).toList());
    System.out.printf("student on %d threads, best of 3 rounds on the sample: %.0f emb/s on its first pass (new"
        + " threads: every word new to their caches), %.0f over a window of 1 s (words cached); the teacher at its best"
        + " %.1f emb/s%n", cores, studentThreadsCold, studentThreads, teacherBest);
    System.out.printf("RATIO student / teacher at its best (%d cores)    = %.1fx first pass, %.1fx cached (target >="
        + " 100x)%n", cores, studentThreadsCold / teacherBest, studentThreads / teacherBest);
    System.out.printf("held-out mean cosine %.4f, p05 %.4f, neighbour recall@10 %.3f, Spearman %.3f "
            + "(target mean >= 0.85)%n", m.get("mean_cosine").asDouble(), m.get("p05_cosine").asDouble(),
        m.get("neighbour_recall").asDouble(), m.get("spearman_pairwise").asDouble());
    System.out.printf("evaluate stage's own measurement: student_speedup %.1fx%n", m.get("student_speedup").asDouble());
    System.out.printf("teacher-embeddings (%d rows), median of %d rounds: table commit %.0f ms vs Parquet partition %.0f"
        + " ms; checked snapshot read %.0f ms vs directory read %.0f ms%n", (long) table[4], TABLE_ROUNDS, table[0],
        table[1], table[2], table[3]);
    System.out.printf("RATIO table write / Parquet write                  = %.2f  (the write and its read: %+.1f s, "
        + "%.1f%% of the generate stage's %.0f s)%n", table[0] / table[1],
        (table[0] - table[1] + table[2] - table[3]) / 1000, 100 * (table[0] - table[1] + table[2] - table[3]) / 1000
        / generateSeconds, generateSeconds);
    spark.stop();
    LOG.info("bench done");
  }

  /**
   * Median ms over TABLE_ROUNDS alternating rounds: {table write, Parquet write, table read, Parquet read, rows}.
   * Each round writes the run's teacher embeddings once as a table commit (to a scratch warehouse) and once as a
   * Parquet partition the way datasets were written before, then reads each back and counts it.
   */
  private static double[] tableLayer(SparkSession spark, Settings settings, String scratch) {
    StageContext ctx = StageContext.of(settings, spark);
    Dataset<Row> rows = ctx.read(DatasetKind.TEACHER_EMBEDDINGS).cache();
    long n = rows.count();
    Tables tables = new Tables(spark, settings.tables(), HadoopFiles.qualified(spark, scratch + "/warehouse"));
    String parquet = scratch + "/parquet";
    List<double[]> rounds = new ArrayList<>();
    for (int round = 0; round <= TABLE_ROUNDS; round++) { // round 0 warms both paths up
      long t0 = System.nanoTime();
      TableSnapshot snapshot = tables.write(rows, DatasetKind.TEACHER_EMBEDDINGS, "bench");
      long t1 = System.nanoTime();
      HadoopFiles.delete(spark, parquet);
      rows.withColumn(DatasetKind.RUN_ID, functions.lit("bench")).write().option("parquet.enable.dictionary", false)
          .mode(SaveMode.Append).partitionBy(DatasetKind.RUN_ID).parquet(parquet);
      long t2 = System.nanoTime();
      long fromTable = tables.read(snapshot, DatasetKind.TEACHER_EMBEDDINGS, "bench").count();
      long t3 = System.nanoTime();
      long fromParquet = spark.read().parquet(parquet).where(functions.col(DatasetKind.RUN_ID).equalTo("bench"))
          .count();
      long t4 = System.nanoTime();
      if (fromTable != n || fromParquet != n) {
        throw new IllegalStateException("read back " + fromTable + " and " + fromParquet + " of " + n + " rows");
      }
      if (round > 0) {
        rounds.add(new double[] {(t1 - t0) / 1e6, (t2 - t1) / 1e6, (t3 - t2) / 1e6, (t4 - t3) / 1e6});
      }
    }
    rows.unpersist();
    HadoopFiles.delete(spark, scratch);
    double[] median = new double[5];
    for (int i = 0; i < 4; i++) {
      int column = i;
      median[i] = rounds.stream().mapToDouble(r -> r[column]).sorted().toArray()[rounds.size() / 2];
    }
    median[4] = n;
    return median;
  }

  private static void embedAll(List<String> texts, int batch, Consumer<List<String>> embed) {
    for (int i = 0; i < texts.size(); i += batch) {
      embed.accept(texts.subList(i, Math.min(texts.size(), i + batch)));
    }
  }

  /**
   * Embeddings per second of {@code embed} on {@code threads} new threads, each on its share of {@code texts}: {first
   * pass (the threads' caches empty), over and over for a window of STEADY_WINDOW_NANOS}.
   */
  private static double[] onThreads(List<String> texts, int threads, int batch, Consumer<List<String>> embed)
      throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      long start = System.nanoTime();
      List<Future<long[]>> futures = new ArrayList<>();
      for (int w = 0; w < threads; w++) {
        List<String> share = texts.subList(texts.size() * w / threads, texts.size() * (w + 1) / threads);
        futures.add(pool.submit(() -> {
          long done = 0;
          long firstPass = 0;
          do {
            embedAll(share, batch, embed);
            done += share.size();
            firstPass = firstPass == 0 ? System.nanoTime() - start : firstPass;
          } while (System.nanoTime() - start < STEADY_WINDOW_NANOS);
          return new long[] {done, firstPass};
        }));
      }
      long done = 0;
      long firstPass = 0;
      for (Future<long[]> f : futures) {
        long[] r = f.get();
        done += r[0];
        firstPass = Math.max(firstPass, r[1]);
      }
      return new double[] {texts.size() / (firstPass / 1e9), done / ((System.nanoTime() - start) / 1e9)};
    } finally {
      pool.shutdown();
    }
  }

  /** Slice {@code round} of STUDENT_ROUNDS equal slices of {@code texts}. */
  private static List<String> slice(List<String> texts, int round) {
    return texts.subList(texts.size() * round / STUDENT_ROUNDS, texts.size() * (round + 1) / STUDENT_ROUNDS);
  }

  private static double bareOnnx(Settings.Teacher spec, List<String> texts, int threads) throws Exception {
    OnnxEmbeddingTeacher teacher = OnnxEmbeddingTeacher.shared(spec);
    for (String t : texts.subList(0, 20)) {
      teacher.embed(t);
    }
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    long start = System.nanoTime();
    List<Future<?>> futures = new ArrayList<>();
    for (int w = 0; w < threads; w++) {
      int worker = w;
      futures.add(pool.submit(() -> {
        for (int i = worker; i < texts.size(); i += threads) {
          teacher.embed(texts.get(i));
        }
      }));
    }
    for (Future<?> f : futures) {
      f.get();
    }
    double rate = texts.size() / ((System.nanoTime() - start) / 1e9);
    pool.shutdown();
    return rate;
  }

  /** Rows per second of the generate stage's executor function, and the fraction of core time in the teacher. */
  private static double[] sparkFanOut(SparkSession spark, Settings settings, Dataset<Row> prompts, String out) {
    GenerateJob generate = new GenerateJob(TaskRegistry.of(settings.task()).generation());
    Dataset<Row> input = prompts.repartition(settings.spark().partitions()).cache();
    input.count();
    long start = System.nanoTime();
    // The generate stage's own path: its executor function, written the way it stages its attempts.
    Staging.write(generate.inProcessAttempts(settings, input), out);
    double seconds = (System.nanoTime() - start) / 1e9;
    double rate = input.count() / seconds;
    // Per task (one file each): the teacher's time, and the span from its first answer to its last. What the spans
    // leave of the core time is the job's start and commit, gaps between tasks and the tail; what the teacher
    // leaves of the spans is per-row work around it (rows, Parquet).
    Row t = spark.read().parquet(out).where(functions.col(Cols.LATENCY_MS).isNotNull())
        .groupBy(functions.input_file_name())
        .agg(functions.sum(Cols.LATENCY_MS).as("teacher_ms"), functions.expr("(cast(max(" + Cols.CREATED_AT
            + ") as double) - min(cast(" + Cols.CREATED_AT + " as double) - " + Cols.LATENCY_MS + " / 1000)) * 1000")
            .as("span_ms"))
        .agg(functions.sum("teacher_ms"), functions.sum("span_ms")).first();
    HadoopFiles.delete(spark, out);
    return new double[] {rate, t.getDouble(0) / 1e3 / (seconds * 2), t.getDouble(0) / t.getDouble(1)};
  }
}
