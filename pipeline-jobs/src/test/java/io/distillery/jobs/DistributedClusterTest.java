package io.distillery.jobs;

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
import io.distillery.jobs.pipeline.Pipeline;
import io.distillery.jobs.spark.HadoopFiles;
import io.distillery.jobs.train.TrainingMasters;
import io.distillery.provenance.ComputeBackend;
import io.distillery.run.RunLayout;
import io.distillery.run.Stage;
import io.distillery.run.StageManifest;
import io.distillery.settings.DeviceKind;
import io.distillery.settings.DeviceUnavailableException;
import io.distillery.settings.Settings;
import io.distillery.teacher.http.FaultInjectingProxy;
import io.distillery.teacher.http.FaultInjectingProxy.Fault;
import io.distillery.teacher.server.TeacherServer;
import io.distillery.util.AssignedGpus;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pipeline on a multi-JVM Spark standalone cluster (a Master and two Workers on 127.0.0.1): the teacher
 * fans out over both executors (one teacher per executor JVM), and the student trains with parameter
 * averaging across them; an executor JVM killed in the middle of generate, and again of train, costs nothing, and
 * one killed in the middle of asking a remote teacher costs only the answers it had not recorded.
 */
class DistributedClusterTest {
  @TempDir
  Path dir;

  private static SparkSession session(StandaloneCluster cluster) {
    return cluster.session("distillery-cluster-test", 2);
  }

  /**
   * Kills one executor JVM (SIGKILL) a second after the first task of the next Spark stage of at least
   * {@code minTasks} tasks starts, once armed: in the middle of that stage's work.
   */
  private static final class ExecutorKiller extends SparkListener {
    private final StandaloneCluster cluster;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final AtomicBoolean armed = new AtomicBoolean();
    private final AtomicInteger kills = new AtomicInteger();
    private final List<String> seen = new CopyOnWriteArrayList<>();
    private volatile int minTasks;

    ExecutorKiller(StandaloneCluster cluster) {
      this.cluster = cluster;
    }

    void arm(int tasks) {
      minTasks = tasks;
      armed.set(true);
    }

    @Override
    public void onStageSubmitted(SparkListenerStageSubmitted submitted) {
      seen.add(submitted.stageInfo().name() + " (" + submitted.stageInfo().numTasks() + " tasks)");
      if (submitted.stageInfo().numTasks() >= minTasks && armed.compareAndSet(true, false)) {
        timer.schedule(() -> {
          List<ProcessHandle> executors = cluster.executors();
          seen.add("kill among " + executors.size() + " executor JVMs");
          executors.stream().findFirst().ifPresent(e -> {
            e.destroyForcibly();
            kills.incrementAndGet();
          });
        }, 1, TimeUnit.SECONDS);
      }
    }
  }

  /**
   * The whole pipeline on two executor JVMs, one of them killed in the middle of generate and another in the middle
   * of train: tasks ran on the executors only, nothing is lost or duplicated, parameter averaging across two workers
   * trained every epoch and lowered the validation loss, and evaluate scored the student.
   */
  @Test
  void thePipelineRunsAcrossExecutorJvmsAndAnExecutorKilledInGenerateAndInTrainLosesAndDuplicatesNothing()
      throws Exception {
    try (StandaloneCluster cluster = StandaloneCluster.start(dir, 2, 2048)) {
      Map<String, String> o = TestRuns.small(dir.resolve("out"), "cluster-faults");
      o.put("distillery.corpus.max-documents", "800");
      o.put("distillery.spark.partitions", "8");
      o.put("distillery.train.workers", "2");
      Settings settings = TestRuns.settings(o);
      SparkSession spark = session(cluster);
      ExecutorKiller killer = new ExecutorKiller(cluster);
      spark.sparkContext().addSparkListener(killer);
      Set<String> executorsThatRanTasks = ConcurrentHashMap.newKeySet();
      spark.sparkContext().addSparkListener(new SparkListener() {
        @Override
        public void onTaskEnd(SparkListenerTaskEnd end) {
          executorsThatRanTasks.add(end.taskInfo().executorId());
        }
      });
      try {
        long prompts = Pipeline.run(settings, spark, List.of(Stage.INGEST), false).get(Stage.INGEST).counts()
            .get("written");
        killer.arm(8);
        Map<String, Long> generate = Pipeline.run(settings, spark, List.of(Stage.GENERATE), false)
            .get(Stage.GENERATE).counts();
        assertEquals(1, killer.kills.get(), "an executor was killed during generate: " + killer.seen);
        assertEquals(prompts, generate.get("rows_in"));
        assertEquals(generate.get("rows_in"), generate.get("written") + generate.get("failed"), generate.toString());
        Dataset<Row> answers = TestRuns.read(spark, settings, DatasetKind.TEACHER_EMBEDDINGS);
        assertEquals(generate.get("written"), answers.count());
        assertEquals(answers.count(), answers.select(Cols.ROW_ID).distinct().count(), "one row per row id");

        killer.arm(2);
        Map<String, Long> train = Pipeline.run(settings, spark, List.of(Stage.TRAIN), false).get(Stage.TRAIN)
            .counts();
        assertEquals(2, killer.kills.get(), "an executor was killed during train: " + killer.seen);
        assertTrue(train.get("train_rows") > 0, train.toString());
        JsonNode card = StageManifest.json().readTree(HadoopFiles.read(spark, RunLayout.of(settings.run())
            .modelCard()));
        assertEquals(2, card.at("/training/workers").asInt());
        // Before training, then both epochs.
        JsonNode epochs = card.at("/training/epochs");
        assertEquals(3, epochs.size(), "every epoch trained: " + epochs);
        assertTrue(epochs.get(2).get("validation_loss").asDouble() < epochs.get(0).get("validation_loss").asDouble(),
            "parameter averaging across two executors lowered the validation loss: " + epochs);

        Map<String, Long> evaluate = Pipeline.run(settings, spark, List.of(Stage.EVALUATE), false)
            .get(Stage.EVALUATE).counts();
        assertTrue(evaluate.get("held_out_rows") > 0, evaluate.toString());
        assertTrue(executorsThatRanTasks.size() >= 2, "tasks ran on " + executorsThatRanTasks);
        assertTrue(executorsThatRanTasks.stream().noneMatch("driver"::equals), executorsThatRanTasks.toString());
      } finally {
        spark.stop();
      }
    }
  }

  /**
   * A remote teacher (serve-teacher's language detector behind a counting proxy, real HTTP on loopback) asked by
   * both executors; one executor JVM killed (SIGKILL) once a third of the prompts are answered. The lost task runs
   * again elsewhere and reads what its killed attempt had recorded in the response cache: only the answers still in
   * flight or not yet flushed when it died are asked twice, not the tens it had received before.
   */
  @Test
  void anExecutorKilledInTheMiddleOfRemoteGenerateDoesNotAskAgainWhatItsCacheHolds() throws Exception {
    Path corpus = dir.resolve("europarl.jsonl");
    ObjectMapper json = new ObjectMapper();
    List<String> lines = new ArrayList<>();
    Europarl.read(0, 1, 400, (line, body) -> {
      try {
        lines.add(json.writeValueAsString(Map.of("id", line, "text", body)));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
    Files.write(corpus, lines, StandardCharsets.UTF_8);
    int inFlight = 4;
    int perMinute = 1200; // per task: slow enough for the kill to land half-way
    Map<String, String> serve = Map.of("distillery.serve.port", "0", "distillery.serve.max-concurrent", "8");
    try (TeacherServer server = TeacherServer.start(TestSettings.langid(serve), Optional.empty());
        FaultInjectingProxy proxy = FaultInjectingProxy.start(URI.create("http://127.0.0.1:"
            + server.address().getPort() + "/v1"), (input, attempt) -> Fault.NONE, Duration.ofMillis(1), 0);
        StandaloneCluster cluster = StandaloneCluster.start(dir, 2, 2048)) {
      Map<String, String> o = new HashMap<>();
      o.put("distillery.run.root", dir.resolve("out").toUri().toString());
      o.put("distillery.run.id", "cluster-remote");
      o.put("distillery.spark.partitions", "2"); // one task per executor: the killed one had answered a hundred
      o.put("distillery.corpus.source", "jsonl");
      o.put("distillery.corpus.path", corpus.toString());
      o.put("distillery.teacher.kind", "openai-chat");
      o.put("distillery.teacher.model", "apache-opennlp/langdetect-183");
      o.put("distillery.teacher.http.base-url", proxy.baseUrl());
      o.put("distillery.teacher.http.max-in-flight", Integer.toString(inFlight));
      o.put("distillery.teacher.http.requests-per-minute", Integer.toString(perMinute));
      Settings settings = TestSettings.langid(o);
      SparkSession spark = session(cluster);
      try {
        long prompts = Pipeline.run(settings, spark, List.of(Stage.INGEST), false).get(Stage.INGEST).counts()
            .get("written");
        AtomicInteger answeredAtKill = new AtomicInteger(-1);
        Thread killer = new Thread(() -> {
          try {
            while (proxy.answered().size() < prompts / 3) {
              Thread.sleep(20);
            }
            answeredAtKill.set(proxy.answered().size());
            cluster.executors().stream().findFirst().ifPresent(ProcessHandle::destroyForcibly);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
        killer.start();
        Map<String, Long> generate = Pipeline.run(settings, spark, List.of(Stage.GENERATE), false)
            .get(Stage.GENERATE).counts();
        killer.join(1000);
        assertTrue(answeredAtKill.get() > 0 && answeredAtKill.get() < prompts, "killed half-way: "
            + answeredAtKill.get() + " of " + prompts);

        assertEquals(prompts, generate.get("rows_in"));
        assertEquals(0L, generate.get("failed"), generate.toString());
        assertEquals(generate.get("rows_in"), generate.get("written"), generate.toString());
        Dataset<Row> answers = TestRuns.read(spark, settings, DatasetKind.TEACHER_LABELS);
        assertEquals(generate.get("written"), answers.count());
        assertEquals(answers.count(), answers.select(Cols.ROW_ID).distinct().count(), "one row per row id");
        assertEquals(prompts, proxy.answered().size(), "every prompt was answered");
        long askedTwice = proxy.answered().values().stream().filter(n -> n > 1).count();
        // The killed attempt's requests on the wire, and one flush interval of its answers at its rate (200 ms),
        // with slack for a flusher starved of CPU; its answers before that were recorded and are not asked again.
        long bound = 2L * inFlight + Math.round(perMinute / 60.0 * 1.0);
        assertTrue(askedTwice <= bound, askedTwice + " prompts asked twice (bound " + bound + "; " + prompts
            + " prompts, " + answeredAtKill.get() + " answered when an executor was killed)");
      } finally {
        spark.stop();
      }
    }
  }

  /**
   * GPU scheduling as Spark does it, on a machine without GPUs: each Worker offers the GPU deploy/gpu-discovery.sh
   * finds (over a stand-in nvidia-smi that lists GPU 1), the application asks one per executor and per task, and the
   * train stage's backend check reports the address Spark assigned to each task, beside the backend this build
   * loaded (CPU), and stops a run set to GPUs. Distillery's executor plugin saw the same address on every executor
   * and task thread: what ND4J's task threads are bound to and the ONNX teacher's session opens on (device 1, not
   * CUDA's default 0).
   */
  @Test
  void tasksSeeTheGpuAddressSparkAssignedThemFromTheDiscoveryScript() throws Exception {
    Path bin = Files.createDirectories(dir.resolve("driver-tools"));
    Path smi = Files.writeString(bin.resolve("nvidia-smi"), "#!/bin/sh\necho 1\n");
    assertTrue(smi.toFile().setExecutable(true));
    Map<String, String> worker = Map.of("spark.worker.resource.gpu.amount", "1",
        "spark.worker.resource.gpu.discoveryScript",
        TestSettings.repoFile("deploy/gpu-discovery.sh").toAbsolutePath().toString());
    try (StandaloneCluster cluster = StandaloneCluster.start(dir, 2, 2048, worker,
        Map.of("PATH", bin + ":" + System.getenv("PATH")))) {
      SparkSession spark = cluster.session("distillery-gpu-test", 2, Map.of(
          "spark.executor.resource.gpu.amount", "1", "spark.task.resource.gpu.amount", "1"));
      JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
      try {
        List<ComputeBackend> backends = TrainingMasters.backends(jsc, 2,
            new Settings.Device(DeviceKind.CPU, false));
        assertEquals("driver", backends.get(0).where());
        assertEquals(List.of(), backends.get(0).assignedGpus(), "the driver runs no task");
        List<ComputeBackend> executors = backends.subList(1, backends.size());
        assertFalse(executors.isEmpty(), backends.toString());
        for (ComputeBackend b : executors) {
          assertTrue(b.where().startsWith("executor "), b.toString());
          assertEquals(List.of("1"), b.assignedGpus(), "the address the Worker's discovery script found: " + b);
          assertEquals("CpuBackend", b.backend(), b.toString());
        }
        List<String> bound = jsc.parallelize(List.of(1, 2), 2).map(i -> AssignedGpus.executor() + " task "
            + AssignedGpus.task() + " session " + AssignedGpus.sessionDevice()).collect();
        assertEquals(List.of("[1] task OptionalInt[1] session 1", "[1] task OptionalInt[1] session 1"), bound);
        var e = assertThrows(DeviceUnavailableException.class,
            () -> TrainingMasters.backends(jsc, 2, new Settings.Device(DeviceKind.GPU, false)));
        assertTrue(e.getMessage().contains("ND4J on the driver loaded CpuBackend"), e.getMessage());
      } finally {
        spark.stop();
      }
    }
  }
}
