package io.distillery.jobs.task;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.sum;

import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.jobs.stage.StageContext;
import io.distillery.jobs.stage.Stages;
import io.distillery.run.Stage;
import io.distillery.run.StageManifest;
import io.distillery.settings.Settings;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Teacher and student inputs per second, measured side by side: both models in the same executor task, taking turns
 * in rounds on the same held-out texts after a warm-up on the first texts (not timed), the student over at least
 * {@code evaluate.throughput-window} in all. A remote teacher is not asked again to be timed (every request is
 * billed): its rate is what generate achieved, answers per second over its request phase with the requests it kept
 * open (the generate manifest); when generate sent nothing (every answer from the cache), the open requests over the
 * mean latency the rows recorded.
 *
 * @param rows texts timed
 * @param studentSeconds the student's time in all (it embeds the texts again until evaluate.throughput-window)
 * @param teacherModelBytes the in-process teacher's model file size (0 for a remote teacher)
 * @param teacherMeanLatencyMs a remote teacher's mean recorded latency (NaN for an in-process one)
 * @param teacherRequestsOpen the requests generate kept open at once across its tasks (0 for an in-process teacher)
 */
public record Throughput(long rows, double teacherPerSecond, double studentPerSecond, double studentSeconds,
    long teacherModelBytes,
    double teacherMeanLatencyMs, long teacherRequestsOpen) {

  public double studentSpeedup() {
    return studentPerSecond / teacherPerSecond;
  }

  /**
   * The metrics of the measurement, inputs counted in {@code unit} (e.g. "docs": teacher_docs_per_second): the rows
   * timed, the student's time, both rates and their ratio, and the teacher's model size or, for a remote one, its
   * mean latency and the requests generate kept open.
   */
  public Map<String, Double> metrics(String unit) {
    Map<String, Double> m = new TreeMap<>();
    m.put("throughput_rows", (double) rows);
    m.put("throughput_student_seconds", studentSeconds);
    if (teacherRequestsOpen > 0) {
      m.put("teacher_mean_latency_ms", teacherMeanLatencyMs);
      m.put("teacher_requests_open", (double) teacherRequestsOpen);
    } else {
      m.put("teacher_model_bytes", (double) teacherModelBytes);
    }
    m.put("teacher_" + unit + "_per_second", teacherPerSecond);
    m.put("student_" + unit + "_per_second", studentPerSecond);
    m.put("student_speedup", studentSpeedup());
    return m;
  }

  /**
   * The two models as the probe runs them: each takes a list of texts and answers them as its stage would.
   *
   * @param teacher the teacher, if it runs in-process
   * @param resources what to close when the probe is done (nothing for the JVM's shared models)
   */
  public record Contestants(Optional<Consumer<List<String>>> teacher, Consumer<List<String>> student,
      long teacherModelBytes, AutoCloseable resources) implements AutoCloseable {

    @Override
    public void close() {
      try {
        resources.close();
      } catch (Exception e) {
        throw new IllegalStateException("Closing the throughput probe's models failed", e);
      }
    }

    /** Executor side: opens both models for the probe's task. */
    @FunctionalInterface
    public interface Opener extends Serializable {
      Contestants open();
    }
  }

  /** Rounds the teacher and the student take turns in, each on its slice of the timed texts. */
  static final int ROUNDS = 5;

  /** Times {@code contestants} on the first {@code evaluate.throughput-rows} held-out texts, by row id. */
  public static Throughput measure(StageContext ctx, Dataset<Row> heldOut, Contestants.Opener contestants,
      int warmUp) {
    Settings settings = ctx.settings();
    Row t = heldOut.select(Cols.ROW_ID, Cols.TEXT).orderBy(Cols.ROW_ID).limit(settings.evaluate().throughputRows())
        .coalesce(1) // one task: both models on the same executor, nothing else running there
        .mapPartitions(new Probe(contestants, warmUp, settings.evaluate().throughputWindow().toNanos()),
            Encoders.row(PROBE))
        .agg(sum("rows"), sum("teacher_nanos"), sum("student_rows"), sum("student_nanos"), sum("teacher_model_bytes"))
        .first();
    long rows = t.getLong(0);
    double studentSeconds = t.getLong(3) / 1e9;
    double studentPerSecond = t.getLong(2) / studentSeconds;
    if (!settings.teacher().remote()) {
      return new Throughput(rows, rows / (t.getLong(1) / 1e9), studentPerSecond, studentSeconds, t.getLong(4),
          Double.NaN, 0);
    }
    Row latency = heldOut.agg(avg(Cols.LATENCY_MS)).first();
    double ms = latency.isNullAt(0) ? Double.NaN : latency.getDouble(0);
    long open = (long) settings.teacher().http().maxInFlight() * settings.spark().partitions();
    Map<String, Long> generate = Stages.finished(ctx, Stage.GENERATE).map(StageManifest::counts).orElse(Map.of());
    long answered = generate.getOrDefault("answered_by_requests", 0L);
    long phaseMs = generate.getOrDefault("request_phase_ms", 0L);
    double perSecond = answered > 0 && phaseMs > 0 ? answered / (phaseMs / 1000.0) : open * 1000 / ms;
    return new Throughput(rows, perSecond, studentPerSecond, studentSeconds, 0, ms, open);
  }

  /** Slice {@code i} of {@link #ROUNDS} equal slices of {@code texts}. */
  private static List<String> slice(List<String> texts, int i) {
    return texts.subList(texts.size() * i / ROUNDS, texts.size() * (i + 1) / ROUNDS);
  }

  private static final StructType PROBE = new StructType()
      .add("rows", DataTypes.LongType).add("teacher_nanos", DataTypes.LongType)
      .add("student_rows", DataTypes.LongType).add("student_nanos", DataTypes.LongType)
      .add("teacher_model_bytes", DataTypes.LongType);

  /**
   * Executor side: warms both models up, then times them in {@link #ROUNDS} rounds, each the teacher on its slice of
   * the texts then the student on the same slice and on round the others until it has had its share of
   * {@code windowNanos}: both see the machine as it is at that second, and the student's rate spans more than a GC
   * pause (one pass of a fast student over a few hundred texts is a few milliseconds). Passes after the first read
   * texts the student has seen, their words cached: its steady state on this small set, faster than on a stream of
   * new text (bench/run.sh measures both).
   */
  record Probe(Contestants.Opener contestants, int warmUpTexts, long windowNanos)
      implements MapPartitionsFunction<Row, Row> {

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
      List<String> texts = new ArrayList<>();
      rows.forEachRemaining(r -> texts.add(r.getString(1)));
      if (texts.isEmpty()) {
        return List.<Row>of().iterator();
      }
      try (Contestants models = contestants.open()) {
        int warmUp = Math.min(warmUpTexts, texts.size() / 2);
        List<String> warm = texts.subList(0, warmUp);
        List<String> timed = texts.subList(warmUp, texts.size());
        models.teacher().ifPresent(teacher -> teacher.accept(warm));
        models.student().accept(warm);
        long teacherNanos = 0;
        long studentNanos = 0;
        long studentRows = 0;
        for (int round = 0; round < ROUNDS; round++) {
          List<String> slice = slice(timed, round);
          if (slice.isEmpty()) {
            continue;
          }
          long t0 = System.nanoTime();
          models.teacher().ifPresent(teacher -> teacher.accept(slice));
          long t1 = System.nanoTime();
          teacherNanos += t1 - t0;
          // The teacher's slice, then on round the others: never the same few texts back to back.
          long share = windowNanos * (round + 1) / ROUNDS;
          for (int next = round; studentRows == 0 || studentNanos < share; next++) {
            List<String> part = slice(timed, next % ROUNDS);
            long s0 = System.nanoTime();
            models.student().accept(part);
            studentNanos += System.nanoTime() - s0;
            studentRows += part.size();
          }
        }
        return List.of(RowFactory.create((long) timed.size(), teacherNanos, studentRows, studentNanos,
            models.teacherModelBytes())).iterator();
      }
    }
  }
}
