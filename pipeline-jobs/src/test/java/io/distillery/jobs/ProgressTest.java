package io.distillery.jobs;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.distillery.jobs.pipeline.Pipeline;
import io.distillery.jobs.spark.Progress;
import io.distillery.run.Stage;
import io.distillery.settings.Settings;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a person watching a long stage sees: progress lines that say what the running Spark job does and how far
 * the teacher has got (prompts answered of all, moving while the tasks run: the executors' heartbeats carry the
 * counts), and Spark jobs named for the UIs by stage group and description rather than by call site.
 */
class ProgressTest {
  @TempDir
  Path root;

  @Test
  void generateShowsThePromptsAnsweredAsTheTasksRunAndItsJobsAreNamed() {
    Map<String, String> o = TestRuns.small(root, "progress");
    o.put("distillery.corpus.max-documents", "400");
    Settings settings = TestRuns.settings(o);
    if (SparkSession.getDefaultSession().isDefined()) {
      SparkSession.getDefaultSession().get().stop(); // a new session, with the heartbeat below
    }
    System.setProperty("spark.executor.heartbeatInterval", "500ms"); // Spark's default is 10 s
    SparkSession spark;
    try {
      spark = TestRuns.spark(settings);
    } finally {
      System.clearProperty("spark.executor.heartbeatInterval");
    }
    Set<String> named = ConcurrentHashMap.newKeySet();
    spark.sparkContext().addSparkListener(new SparkListener() {
      @Override
      public void onJobStart(SparkListenerJobStart start) {
        named.add(start.properties().getProperty(Progress.JOB_GROUP) + " | "
            + start.properties().getProperty(Progress.DESCRIPTION));
      }
    });
    List<String> lines = new CopyOnWriteArrayList<>();
    StringWriter terminal = new StringWriter();
    try (Progress progress = Progress.report(spark.sparkContext(), lines::add, Duration.ofMillis(100))) {
      long prompts;
      try (Progress drawn = Progress.report(spark.sparkContext(), Progress.terminal(new PrintWriter(terminal)),
          Duration.ofMillis(100))) {
        prompts = Pipeline.run(settings, spark, List.of(Stage.INGEST, Stage.GENERATE), false)
            .get(Stage.INGEST).counts().get("written");
      }
      Pattern fanOut = Pattern.compile("generate: teacher fan-out: tasks (\\d+)/(\\d+)(, \\d+ failed \\(retried\\))?; "
          + "(\\d+)/" + prompts + " prompts answered \\(\\d+%\\), [\\d.]+/s(, .+ left)?");
      List<Long> answered = lines.stream().map(fanOut::matcher).filter(Matcher::matches)
          .map(m -> Long.parseLong(m.group(4))).toList();
      assertTrue(answered.stream().anyMatch(n -> n > 0 && n < prompts),
          "a line while the teacher's tasks ran, with some of the " + prompts + " prompts answered: " + lines);
      assertTrue(lines.stream().anyMatch(l -> l.matches(".*; \\d+/\\d+ prompts answered .*, \\S+ left")),
          "and the time left: " + lines);
      for (String job : List.of("ingest | ingest: write distillery.prompts",
          "ingest | ingest: write distillery.quarantine", "generate | generate: teacher fan-out",
          "generate | generate: write distillery.teacher_embeddings")) {
        assertTrue(named.contains(job), job + " among " + named);
      }
      // On a terminal: the same lines, each drawn over the last on one line, which is cleared at the end.
      String drawn = terminal.toString();
      String redraw = "\r\033[2K";
      assertTrue(drawn.contains(redraw + "generate: teacher fan-out: tasks "), drawn);
      assertTrue(drawn.endsWith(redraw) && !drawn.contains("\n"), drawn);
      assertTrue(named.stream().noneMatch(n -> n.startsWith("null")), "every job is in its stage's group: " + named);
    } finally {
      spark.stop();
    }
  }
}
