package io.distillery.jobs;

import io.distillery.jobs.spark.SparkSessions;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.spark.sql.SparkSession;

/**
 * A real Spark standalone cluster on 127.0.0.1: one Master and N Workers, each its own JVM started from the
 * test classpath, with a SPARK_HOME whose jars/ holds that classpath (as the Workers' executor launcher needs).
 */
public final class StandaloneCluster implements AutoCloseable {
  private final List<Process> processes = new ArrayList<>();
  private final Path home;
  private final String classpath;
  private final int masterPort;
  private final int masterUiPort;

  private StandaloneCluster(Path home, String classpath, int masterPort, int masterUiPort) {
    this.home = home;
    this.classpath = classpath;
    this.masterPort = masterPort;
    this.masterUiPort = masterUiPort;
  }

  public static StandaloneCluster start(Path dir, int workers, int workerMemoryMb) throws Exception {
    return start(dir, workers, workerMemoryMb, Map.of(), Map.of());
  }

  /**
   * A cluster whose Workers run with these system properties (e.g. spark.worker.resource.gpu.*) and environment
   * variables besides the cluster's own.
   */
  public static StandaloneCluster start(Path dir, int workers, int workerMemoryMb, Map<String, String> workerConf,
      Map<String, String> workerEnv) throws Exception {
    String classpath = TestJvms.classpath();
    Path home = dir.resolve("spark-home");
    Path jars = Files.createDirectories(home.resolve("jars"));
    Files.writeString(home.resolve("RELEASE"), "Spark from the Maven test classpath\n");
    Set<String> names = new HashSet<>();
    for (String entry : classpath.split(File.pathSeparator)) {
      Path p = Path.of(entry);
      if (entry.endsWith(".jar") && Files.isRegularFile(p) && names.add(p.getFileName().toString())) {
        Files.createSymbolicLink(jars.resolve(p.getFileName()), p.toAbsolutePath());
      }
    }
    StandaloneCluster cluster = new StandaloneCluster(home, classpath, freePort(), freePort());
    cluster.launch("master", List.of("org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
        "--port", Integer.toString(cluster.masterPort), "--webui-port", Integer.toString(cluster.masterUiPort)),
        Map.of(), Map.of());
    for (int i = 0; i < workers; i++) {
      Path work = Files.createDirectories(dir.resolve("worker-" + i));
      cluster.launch("worker-" + i, List.of("org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
          "--cores", "1", "--memory", workerMemoryMb + "m", "--webui-port", Integer.toString(freePort()),
          "--work-dir", work.toString(), cluster.masterUrl()), workerConf, workerEnv);
    }
    cluster.awaitWorkers(workers, Duration.ofSeconds(90));
    return cluster;
  }

  public String masterUrl() {
    return "spark://127.0.0.1:" + masterPort;
  }

  /**
   * The executor JVMs the Workers launched for applications, running now: the Workers' child JVMs (they launch
   * nothing else; a child's arguments are not always readable through ProcessHandle).
   */
  public List<ProcessHandle> executors() {
    return processes.stream().flatMap(Process::descendants).filter(ProcessHandle::isAlive)
        .filter(h -> h.info().command().orElse("").endsWith("/java")).toList();
  }

  /** Classpath for executors: directories (target/classes) are not in SPARK_HOME/jars. */
  public String classpath() {
    return classpath;
  }

  /**
   * A Spark session of this JVM (the driver) on the cluster, replacing any other: one executor of one core per
   * Worker, the executors on the test classpath with the flags every Distillery JVM needs.
   */
  public SparkSession session(String appName, int executors) {
    return session(appName, executors, Map.of());
  }

  /** {@link #session(String, int)} with more Spark settings (e.g. resource requests). */
  public SparkSession session(String appName, int executors, Map<String, String> more) {
    SparkSession.getDefaultSession().foreach(s -> {
      s.stop();
      return null;
    });
    SparkSession.clearActiveSession();
    SparkSession.clearDefaultSession();
    return SparkSession.builder()
        .master(masterUrl())
        .appName(appName)
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.executor.cores", "1")
        .config("spark.cores.max", Integer.toString(executors))
        .config("spark.executor.memory", "1536m")
        .config("spark.executor.extraClassPath", classpath)
        .config("spark.executor.extraJavaOptions", String.join(" ", TestJvms.flags()))
        .config("spark.executorEnv.OMP_NUM_THREADS", "1")
        .config("spark.sql.shuffle.partitions", Integer.toString(executors))
        .config("spark.ui.enabled", "false")
        .config(SparkSessions.PLUGINS, SparkSessions.withGpuPlugin(""))
        .config(more.entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey, e -> (Object) e.getValue())))
        .getOrCreate();
  }

  private void launch(String name, List<String> mainAndArgs, Map<String, String> conf, Map<String, String> env)
      throws IOException {
    List<String> command = new ArrayList<>(TestJvms.command("512m", mainAndArgs.get(0),
        mainAndArgs.subList(1, mainAndArgs.size())));
    conf.forEach((k, v) -> command.add(1, "-D" + k + "=" + v));
    ProcessBuilder pb = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(home.resolve(name + ".log").toFile());
    pb.environment().put("SPARK_HOME", home.toString());
    pb.environment().put("SPARK_SCALA_VERSION", "2.12");
    pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    pb.environment().put("SPARK_LOG_DIR", home.toString());
    pb.environment().putAll(env);
    processes.add(pb.start());
  }

  private void awaitWorkers(int workers, Duration timeout) throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = "";
    while (System.nanoTime() < deadline) {
      try {
        last = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + masterUiPort + "/json/")).build(),
            HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8)).body();
        if (last.contains("\"aliveworkers\" : " + workers) || last.contains("\"aliveworkers\":" + workers)) {
          return;
        }
      } catch (IOException notYet) {
        // the master is still starting
      }
      for (Process p : processes) {
        if (!p.isAlive()) {
          throw new IllegalStateException("A cluster JVM exited with " + p.exitValue() + "; logs in " + home);
        }
      }
      Thread.sleep(500);
    }
    throw new IllegalStateException("Workers did not register within " + timeout + "; master says " + last
        + "; logs in " + home);
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Override
  public void close() throws InterruptedException {
    for (Process p : processes) {
      p.descendants().forEach(ProcessHandle::destroy);
      p.destroy();
    }
    for (Process p : processes) {
      if (!p.waitFor(20, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
  }
}
