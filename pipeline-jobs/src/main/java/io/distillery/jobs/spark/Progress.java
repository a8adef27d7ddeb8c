package io.distillery.jobs.spark;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.AccumulableInfo;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorMetricsUpdate;
import org.apache.spark.scheduler.SparkListenerJobEnd;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.StageInfo;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple4;
import scala.collection.JavaConverters;
import scala.collection.Seq;

/**
 * Progress of the running Spark job for people watching a long stage: what it does (its job description, e.g.
 * "generate: teacher fan-out"), its tasks done of all and failed, and, where the stage counts rows as it goes
 * ({@link #counter}), rows done of the total, the rate and the time left. Counts of running tasks come with the
 * executors' heartbeats, so a line moves while a task runs for hours. Lines go to a sink: an interactive terminal
 * rewrites one line, a log (YARN, Airflow) gets one every interval.
 */
public final class Progress extends SparkListener implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Progress.class);
  /** Spark's local properties for a job's description and group (SparkContext's own names are private). */
  public static final String DESCRIPTION = "spark.job.description";
  public static final String JOB_GROUP = "spark.jobGroup.id";
  /** Back to the line's start and clear it (ANSI): a terminal's progress line is drawn again in place. */
  private static final String REDRAW = "\r\033[2K";
  /** Counters by accumulator id: what they count and how many there are to do. */
  private static final Map<Long, Counter> COUNTERS = new ConcurrentHashMap<>();

  private record Counter(String what, long total, long startNanos) {}

  /** A running job: its description and its tasks (counted on the listener bus's one thread). */
  private static final class Job {
    final String description;
    volatile int tasks; // of the job's stages submitted so far (a stage whose output is there already is skipped)
    volatile int done;
    volatile int failed;

    Job(String description) {
      this.description = description;
    }
  }

  private final Map<Integer, Job> jobs = new ConcurrentHashMap<>();
  private final Map<Integer, Job> byStage = new ConcurrentHashMap<>();
  /** Per counter: the sum over finished tasks, and each running task's latest value. */
  private final Map<Long, Long> finished = new ConcurrentHashMap<>();
  private final Map<Long, Map<Long, Long>> running = new ConcurrentHashMap<>();
  private final ScheduledExecutorService timer;
  private final SparkContext sc;
  private volatile String last = "";

  /** Where lines go. */
  public interface Sink {
    void line(String line);

    /** No more lines (e.g. clear the terminal's line). */
    default void done() {}
  }

  private final Sink sink;

  private Progress(SparkContext sc, Sink sink, Duration every) {
    this.sc = sc;
    this.sink = sink;
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "distillery-progress");
      t.setDaemon(true);
      return t;
    });
    timer.scheduleAtFixedRate(() -> line().filter(l -> !l.equals(last)).ifPresent(l -> {
      last = l;
      sink.line(l);
    }), every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Reports the progress of {@code sc}'s jobs to {@code sink} every {@code every}, until closed. */
  public static Progress report(SparkContext sc, Sink sink, Duration every) {
    Progress progress = new Progress(sc, sink, every);
    sc.addSparkListener(progress);
    return progress;
  }

  /** A sink that logs each line (for logs read later: YARN, Airflow). */
  public static Sink log() {
    return line -> LOG.info("{}", line);
  }

  /** A sink for an interactive terminal: one line on {@code err}, drawn again in place, cleared when done. */
  public static Sink terminal(PrintWriter err) {
    return new Sink() {
      @Override
      public void line(String line) {
        err.print(REDRAW + line);
        err.flush();
      }

      @Override
      public void done() {
        err.print(REDRAW);
        err.flush();
      }
    };
  }

  /**
   * A counter of {@code total} things ({@code what}, e.g. "rows answered") that executor code adds to as it goes;
   * its progress shows beside the job's.
   */
  public static LongAccumulator counter(SparkContext sc, String what, long total) {
    LongAccumulator acc = sc.longAccumulator("distillery.progress." + what);
    COUNTERS.put(acc.id(), new Counter(what, total, System.nanoTime()));
    return acc;
  }

  /** Spark jobs started after this show {@code description} in the Spark and YARN UIs and in progress lines. */
  public static void describe(SparkContext sc, String description) {
    sc.setJobDescription(description);
  }

  /**
   * Runs {@code work} with its Spark jobs in group {@code group} (the Spark and YARN UIs list them under it, with
   * {@code title}), each described as {@code group} until the work describes it better.
   */
  public static <T> T grouped(SparkContext sc, String group, String title, Supplier<T> work) {
    sc.setJobGroup(group, title, false);
    describe(sc, group);
    try {
      return work.get();
    } finally {
      sc.clearJobGroup();
      describe(sc, null);
    }
  }

  /** The line for the jobs running now; empty when none is. */
  Optional<String> line() {
    Optional<Map.Entry<Integer, Job>> newest = jobs.entrySet().stream().max(Map.Entry.comparingByKey());
    if (newest.isEmpty()) {
      return Optional.empty();
    }
    Job job = newest.get().getValue();
    StringBuilder sb = new StringBuilder(job.description).append(": tasks ").append(job.done).append('/')
        .append(job.tasks);
    if (job.failed > 0) {
      sb.append(", ").append(job.failed).append(" failed (retried)");
    }
    // The newest counter being counted; one that has reached its total shows no more (its stage has moved on).
    COUNTERS.entrySet().stream().filter(e -> running.containsKey(e.getKey()) || finished.containsKey(e.getKey()))
        .filter(e -> count(e.getKey()) < e.getValue().total())
        .max(Map.Entry.comparingByKey()).ifPresent(e -> counted(sb, e.getValue(), count(e.getKey())));
    return Optional.of(sb.toString());
  }

  private static void counted(StringBuilder sb, Counter c, long done) {
    double seconds = (System.nanoTime() - c.startNanos()) / 1e9;
    double rate = done / Math.max(seconds, 1e-3);
    sb.append("; ").append(done).append('/').append(c.total()).append(' ').append(c.what());
    if (c.total() > 0) {
      sb.append(" (").append(Math.round(100.0 * done / c.total())).append("%)");
    }
    sb.append(String.format(", %.1f/s", rate));
    if (done > 0 && c.total() > done) {
      sb.append(", ").append(duration(Math.round((c.total() - done) / rate))).append(" left");
    }
  }

  static String duration(long seconds) {
    return seconds >= 3600 ? String.format("%dh%02dm", seconds / 3600, seconds / 60 % 60)
        : seconds >= 60 ? String.format("%dm%02ds", seconds / 60, seconds % 60) : seconds + "s";
  }

  private long count(long accumulator) {
    long live = running.getOrDefault(accumulator, Map.of()).values().stream().mapToLong(Long::longValue).sum();
    return finished.getOrDefault(accumulator, 0L) + live;
  }

  @Override
  public void onJobStart(SparkListenerJobStart start) {
    String description = Optional.ofNullable(start.properties())
        .map(p -> p.getProperty(DESCRIPTION)).orElse("job " + start.jobId());
    Job job = new Job(description);
    jobs.put(start.jobId(), job);
    for (StageInfo s : JavaConverters.seqAsJavaList(start.stageInfos())) {
      byStage.put(s.stageId(), job);
    }
  }

  @Override
  public void onStageSubmitted(SparkListenerStageSubmitted submitted) {
    Job job = byStage.get(submitted.stageInfo().stageId());
    if (job != null) {
      job.tasks += submitted.stageInfo().numTasks();
    }
  }

  @Override
  public void onJobEnd(SparkListenerJobEnd end) {
    Job job = jobs.remove(end.jobId());
    byStage.values().removeIf(j -> j == job);
  }

  @Override
  public void onTaskEnd(SparkListenerTaskEnd end) {
    boolean ok = end.taskInfo().successful();
    Job job = byStage.get(end.stageId());
    if (job != null && ok) {
      job.done++;
    } else if (job != null) {
      job.failed++;
    }
    long task = end.taskInfo().taskId();
    for (AccumulableInfo a : JavaConverters.seqAsJavaList(end.taskInfo().accumulables())) {
      if (COUNTERS.containsKey(a.id())) {
        running.computeIfAbsent(a.id(), k -> new ConcurrentHashMap<>()).remove(task);
        if (ok && a.update().isDefined()) {
          finished.merge(a.id(), ((Number) a.update().get()).longValue(), Long::sum);
        }
      }
    }
  }

  @Override
  public void onExecutorMetricsUpdate(SparkListenerExecutorMetricsUpdate update) {
    for (Tuple4<Object, Object, Object, Seq<AccumulableInfo>> t
        : JavaConverters.seqAsJavaList(update.accumUpdates())) {
      long task = (Long) t._1();
      for (AccumulableInfo a : JavaConverters.seqAsJavaList(t._4())) {
        if (COUNTERS.containsKey(a.id()) && a.update().isDefined()) {
          running.computeIfAbsent(a.id(), k -> new ConcurrentHashMap<>())
              .put(task, ((Number) a.update().get()).longValue());
        }
      }
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
    sc.removeSparkListener(this);
    sink.done();
  }
}
