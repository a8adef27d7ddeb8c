package io.distillery.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.distillery.TestSettings;
import io.distillery.corpus.Europarl;
import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.jobs.TestJvms;
import io.distillery.jobs.TestRuns;
import io.distillery.jobs.stage.StageContext;
import io.distillery.run.EvaluationRecord;
import io.distillery.run.RunLayout;
import io.distillery.run.Stage;
import io.distillery.run.StageManifest;
import io.distillery.settings.Settings;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.CommonConfigurationKeysPublic;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.hadoop.yarn.api.records.ApplicationId;
import org.apache.hadoop.yarn.api.records.ApplicationReport;
import org.apache.hadoop.yarn.api.records.FinalApplicationStatus;
import org.apache.hadoop.yarn.client.api.YarnClient;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.server.MiniYARNCluster;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/submit-yarn.sh as a user runs it, in cluster mode, against YARN and HDFS started in this JVM
 * (MiniYARNCluster, MiniDFSCluster): the nightly embed run of conf/examples/yarn-cluster.conf (its paths as they
 * are, on this HDFS; test-sized otherwise) on the -Pdist jar. {@code spark-submit} is Spark's own SparkSubmit on
 * the provided-scope jars, which the containers get as {@code spark.yarn.jars}, as from a Spark distribution; the
 * application's classes and natives come from the -Pdist jar alone. Run by failsafe in {@code mvn -Pdist verify},
 * after the jar is built.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class YarnClusterIT {
  private static final String RUN = "nightly-2026-12-01";
  /** Europarl documents in the corpus: DistributedClusterTest's size, enough for the gate on two executors. */
  private static final int DOCUMENTS = 800;
  private static final Path REPO = TestSettings.repoFile(".");
  private static final Path TARGET = REPO.resolve("pipeline-jobs/target");

  @TempDir
  static Path base;

  private MiniDFSCluster dfs;
  private MiniYARNCluster yarn;
  private Path hadoopConf;
  private Path config;
  private Path bin;
  private Path sparkJars;
  private Path nodeLogs;
  private Submitted nightly;
  private ApplicationId nightlyApp;

  private record Submitted(int exitCode, String log) {}

  @BeforeAll
  void startTheClustersAndSubmitTheNight() throws Exception {
    Configuration conf = new Configuration();
    conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, base.resolve("dfs").toString());
    dfs = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
    dfs.waitActive();

    YarnConfiguration yarnConf = new YarnConfiguration(dfs.getConfiguration(0));
    // The cluster's Java for its containers, as yarn-env.sh gives it on a real node.
    yarnConf.set(YarnConfiguration.NM_ADMIN_USER_ENV, "JAVA_HOME=" + System.getProperty("java.home"));
    // The application master (1 GiB and its overhead) and two executors (1 GiB and 1 GiB off-heap each).
    yarnConf.setInt(YarnConfiguration.YARN_MINICLUSTER_NM_PMEM_MB, 8192);
    yarnConf.setInt(YarnConfiguration.NM_VCORES, 4);
    yarnConf.setBoolean(YarnConfiguration.NM_PMEM_CHECK_ENABLED, false);
    yarnConf.setBoolean(YarnConfiguration.NM_VMEM_CHECK_ENABLED, false);
    // A shared build machine's disk may be fuller than the node manager's default health limit (90 %).
    yarnConf.setFloat(YarnConfiguration.NM_MAX_PER_DISK_UTILIZATION_PERCENTAGE, 100f);
    yarnConf.setInt(YarnConfiguration.RM_SCHEDULER_MINIMUM_ALLOCATION_MB, 128);
    yarnConf.setInt(YarnConfiguration.RM_SCHEDULER_MAXIMUM_ALLOCATION_MB, 4096);
    yarnConf.set("yarn.scheduler.capacity.root.queues", "default");
    yarnConf.set("yarn.scheduler.capacity.root.default.capacity", "100");
    yarnConf.set("yarn.scheduler.capacity.maximum-am-resource-percent", "1.0");
    // The node manager's directories (localized jars, container logs) under this test's temporary folder.
    System.setProperty("test.build.data", base.resolve("yarn").toString());
    yarn = new MiniYARNCluster("distillery-it", 1, 1, 1);
    yarn.init(yarnConf);
    yarn.start();
    assertTrue(yarn.waitForNodeManagersToConnect(60_000), "the node manager registered");
    nodeLogs = Path.of(yarn.getNodeManager(0).getConfig().get(YarnConfiguration.NM_LOG_DIRS).split(",")[0]);

    // The clients' configuration (HADOOP_CONF_DIR), as a gateway host has it: where HDFS and YARN are; not the
    // mini clusters' rack mapping, a class of Hadoop's tests.
    Configuration client = new Configuration(yarn.getConfig());
    client.unset(CommonConfigurationKeysPublic.NET_TOPOLOGY_NODE_SWITCH_MAPPING_IMPL_KEY);
    hadoopConf = Files.createDirectories(base.resolve("hadoop-conf"));
    for (String site : List.of("core-site.xml", "yarn-site.xml")) {
      try (OutputStream out = Files.newOutputStream(hadoopConf.resolve(site))) {
        client.writeXml(out);
      }
    }
    bin = Files.createDirectories(base.resolve("bin"));
    writeSparkSubmit();
    sparkJars = Files.createDirectories(base.resolve("spark-jars"));
    for (String jar : classpath("spark-classpath.txt")) {
      Files.createSymbolicLink(sparkJars.resolve(Path.of(jar).getFileName()), Path.of(jar));
    }

    writeCorpus();
    config = base.resolve("nightly.conf");
    Files.writeString(config, Files.readString(REPO.resolve("conf/examples/yarn-cluster.conf")) + testSized());
    nightly = submit("run", "--config", config.toString(), "--run-id", RUN);
    nightlyApp = onlyApplication().getApplicationId();
  }

  private static org.apache.hadoop.fs.Path hdfs(String path) {
    return new org.apache.hadoop.fs.Path(path);
  }

  @AfterAll
  void stop() {
    if (yarn != null) {
      yarn.stop();
    }
    if (dfs != null) {
      dfs.shutdown();
    }
  }

  /** A spark-submit on PATH as a Spark distribution's is: SparkSubmit on its jars, the Hadoop configuration. */
  private void writeSparkSubmit() throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx512m");
    command.addAll(TestJvms.flags());
    command.add("-cp");
    command.add(hadoopConf + ":" + String.join(":", classpath("classpath.txt")));
    command.add("org.apache.spark.deploy.SparkSubmit");
    String quoted = command.stream().map(a -> "'" + a + "'").collect(Collectors.joining(" "));
    Path script = bin.resolve("spark-submit");
    Files.writeString(script, "#!/usr/bin/env bash\nexec " + quoted + " \"$@\"\n");
    assertTrue(script.toFile().setExecutable(true));
  }

  private static List<String> classpath(String file) throws IOException {
    Path list = TARGET.resolve(file);
    assertTrue(Files.isRegularFile(list), list + " (mvn generate-resources writes it)");
    return List.of(Files.readString(list).trim().split(":"));
  }

  /** The corpus yarn-cluster.conf reads, at its path: Parquet, a column {@code body} (Europarl's first documents). */
  private void writeCorpus() {
    List<String> bodies = new ArrayList<>();
    Europarl.read(0, 1, DOCUMENTS, (line, body) -> bodies.add(body));
    SparkSession spark = local();
    spark.createDataset(bodies, Encoders.STRING()).toDF("body").repartition(2)
        .write().parquet("hdfs:///data/corpora/support-tickets/");
  }

  /** A local Spark session in this JVM on the mini cluster's HDFS, to write the corpus and read the run back. */
  private SparkSession local() {
    System.setProperty("spark.hadoop.fs.defaultFS", dfs.getURI().toString());
    return TestRuns.spark(readBack());
  }

  private Settings readBack() {
    return Settings.load(Optional.ofNullable(config),
        Map.of("distillery.run.id", RUN, "distillery.spark.master", "local[1]"));
  }

  /** TestRuns.small's sizes, after yarn-cluster.conf's (HOCON: the later value wins); paths and sources as they are. */
  private static String testSized() {
    Map<String, String> small = new TreeMap<>(TestRuns.small(Path.of("/unused"), RUN));
    small.keySet().removeIf(k -> k.startsWith("distillery.run.") || k.equals("distillery.spark.master"));
    small.put("distillery.train.workers", "2");
    small.put("distillery.corpus.max-documents", Integer.toString(DOCUMENTS));
    return small.entrySet().stream().map(e -> e.getKey() + " = \"" + e.getValue() + "\"")
        .collect(Collectors.joining("\n", "\n# Test-sized (YarnClusterIT)\n", "\n"));
  }

  private Submitted submit(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("bash", REPO.resolve("deploy/submit-yarn.sh").toString()));
    command.addAll(List.of(args));
    command.addAll(List.of("--conf", "spark.yarn.jars=local:" + sparkJars + "/*"));
    // The Spark UI's YARN proxy filter (AmIpFilter) is in a node's Hadoop installation, which this one lacks.
    command.addAll(List.of("--conf", "spark.ui.enabled=false"));
    Path log = Files.createTempFile(base, "submit", ".log");
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    Map<String, String> env = pb.environment();
    env.put("PATH", bin + ":" + env.get("PATH"));
    env.put("HADOOP_CONF_DIR", hadoopConf.toString());
    env.putAll(Map.of("EXECUTORS", "2", "EXECUTOR_CORES", "1", "EXECUTOR_MEMORY", "1g", "EXECUTOR_OFFHEAP", "1g",
        "DRIVER_MEMORY", "1g"));
    Process p = pb.start();
    if (!p.waitFor(12, TimeUnit.MINUTES)) {
      p.destroyForcibly();
    }
    return new Submitted(p.isAlive() ? -1 : p.exitValue(), Files.readString(log));
  }

  /** What the containers of an application wrote to stderr, by container id. */
  private Map<String, String> containerLogs(ApplicationId app) throws IOException {
    Map<String, String> logs = new TreeMap<>();
    try (Stream<Path> files = Files.walk(nodeLogs.resolve(app.toString()))) {
      for (Path f : files.filter(f -> f.getFileName().toString().equals("stderr")).toList()) {
        logs.put(f.getParent().getFileName().toString(), Files.readString(f, StandardCharsets.UTF_8));
      }
    }
    return logs;
  }

  private ApplicationReport report(ApplicationId app) throws Exception {
    try (YarnClient client = yarnClient()) {
      return client.getApplicationReport(app);
    }
  }

  private ApplicationReport onlyApplication() throws Exception {
    try (YarnClient client = yarnClient()) {
      List<ApplicationReport> apps = client.getApplications();
      assertEquals(1, apps.size(), "the night's application: " + apps);
      return apps.get(0);
    }
  }

  private YarnClient yarnClient() {
    YarnClient client = YarnClient.createYarnClient();
    client.init(yarn.getConfig());
    client.start();
    return client;
  }

  /** The submission's exit code and log, and the ends of its containers' logs: what a failure needs to be read. */
  private String diagnose(Submitted s) {
    StringBuilder out = new StringBuilder("exit " + s.exitCode() + "; spark-submit's log ends:\n").append(tail(s.log()));
    Matcher app = Pattern.compile("application_\\d+_\\d+").matcher(s.log());
    if (app.find()) {
      try {
        containerLogs(ApplicationId.fromString(app.group())).forEach((container, log) ->
            out.append("\n--- ").append(container).append(" stderr ends:\n").append(tail(log)));
      } catch (IOException | RuntimeException e) {
        out.append("\n(no container logs: ").append(e).append(')');
      }
    }
    return out.toString();
  }

  private static String tail(String log) {
    return log.substring(Math.max(0, log.length() - 5000));
  }

  @Test
  @Timeout(value = 1, unit = TimeUnit.MINUTES)
  void theNightRanInYarnContainersAndItsExitCodeReachedTheCaller() throws Exception {
    assertEquals(0, nightly.exitCode(), diagnose(nightly));
    ApplicationReport app = report(nightlyApp);
    assertEquals("distillery-run", app.getName());
    assertEquals(FinalApplicationStatus.SUCCEEDED, app.getFinalApplicationStatus(), app.getDiagnostics());
    assertEquals("SPARK", app.getApplicationType());

    // Container 1 is the application master (the driver); the others are executors, where the teacher (ONNX
    // Runtime) answered and the student trained (ND4J), both loaded from the -Pdist jar.
    Map<String, String> logs = containerLogs(nightlyApp);
    String driver = logs.entrySet().stream().filter(e -> e.getKey().endsWith("_000001")).findFirst()
        .map(Map.Entry::getValue).orElseThrow(() -> new AssertionError("no driver log: " + logs.keySet()));
    assertTrue(driver.contains("Gate passed"), driver);
    List<String> executors = logs.entrySet().stream().filter(e -> !e.getKey().endsWith("_000001"))
        .map(Map.Entry::getValue).toList();
    assertTrue(executors.size() >= 2, "two executors at least: " + logs.keySet());
    assertTrue(executors.stream().anyMatch(l -> l.matches("(?s).*Teacher \\S+ loaded on cpu \\(\\d+ bytes.*")),
        "an executor loaded the ONNX teacher");
    assertTrue(executors.stream().anyMatch(l -> l.contains("Loaded [CpuBackend] backend")),
        "an executor loaded ND4J's native backend");
  }

  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void theRunsDatasetsAndManifestsAreOnHdfsAndAccountForEveryRow() throws Exception {
    assertEquals(0, nightly.exitCode(), diagnose(nightly));
    Settings settings = readBack();
    RunLayout layout = RunLayout.of(settings.run());
    assertTrue(layout.root().startsWith("hdfs:///data/distillery"), layout.root());
    FileSystem fs = dfs.getFileSystem();
    Map<Stage, StageManifest> manifests = new EnumMap<>(Stage.class);
    for (Stage stage : Stage.values()) {
      try (InputStream in = fs.open(hdfs(layout.manifest(stage)))) {
        manifests.put(stage, StageManifest.fromJson(in.readAllBytes()));
      }
    }
    Map<String, Long> ingest = manifests.get(Stage.INGEST).counts();
    assertEquals((long) DOCUMENTS, ingest.get("documents_read"));
    assertEquals(ingest.get("sentences") + ingest.get("spans"),
        ingest.get("written") + ingest.get("duplicates") + ingest.get("quarantined"), ingest.toString());
    Map<String, Long> generate = manifests.get(Stage.GENERATE).counts();
    assertEquals(ingest.get("written"), generate.get("rows_in"));
    assertEquals(generate.get("rows_in"), generate.get("written") + generate.get("failed")
        + generate.getOrDefault("quarantined", 0L), generate.toString());

    SparkSession spark = local();
    StageContext ctx = StageContext.of(settings, spark);
    var prompts = ctx.read(DatasetKind.PROMPTS);
    assertEquals(ingest.get("written"), prompts.count());
    assertEquals(ingest.get("written"), prompts.select(Cols.ROW_ID).distinct().count(), "one row per row id");
    var answers = ctx.read(DatasetKind.TEACHER_EMBEDDINGS);
    assertEquals(generate.get("written"), answers.count());
    assertEquals(generate.get("written"), answers.select(Cols.ROW_ID).distinct().count(), "one row per row id");
    assertTrue(fs.exists(hdfs(layout.studentModel())), layout.studentModel());
    try (InputStream in = fs.open(hdfs(layout.metrics()))) {
      EvaluationRecord record = EvaluationRecord.fromJson(in.readAllBytes());
      assertTrue(record.gate().passed(), record.gate().failures().toString());
      assertEquals(RUN, record.runId());
    }
  }

  @Test
  @Timeout(value = 6, unit = TimeUnit.MINUTES)
  void aRunTheTermsForbidExitsFourThroughYarn() throws Exception {
    Submitted refused = submit("run", "--config", config.toString(), "--run-id", "nightly-forbidden",
        "--set", "teacher.terms.distillation=forbidden");
    assertEquals(4, refused.exitCode(), diagnose(refused));
    assertTrue(refused.log().contains("User application exited with status 4"), diagnose(refused));
    RunLayout layout = RunLayout.of(Settings.load(Optional.of(config),
        Map.of("distillery.run.id", "nightly-forbidden")).run());
    assertFalse(dfs.getFileSystem().exists(hdfs(layout.manifest(Stage.GENERATE))),
        "nothing was generated");
  }
}
