package io.distillery.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.distillery.jobs.LineageTest;
import io.distillery.jobs.cli.DistilleryCli;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The nightly schedules under deploy/ as the tools that run them read them: the Oozie workflow and coordinator
 * against the XSDs Oozie 5.2.1 ships (xmllint --schema), the systemd units with systemd-analyze verify, and the
 * Airflow DAG compiled by Python; the distillery arguments each passes are parsed by the command line itself.
 */
class DeployFilesTest {
  private static final Path DEPLOY = Path.of(System.getProperty("test.repo.root", "..")).resolve("deploy");

  private record Ran(int code, String output) {}

  private static Ran run(Path dir, String... command) throws Exception {
    Process p;
    try {
      p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new IllegalStateException(command[0] + " is not installed here (.ci/run installs it: "
          + "libxml2-utils for xmllint, systemd for systemd-analyze)", e);
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), String.join(" ", command));
    return new Ran(p.exitValue(), out);
  }

  /** Parses distillery's arguments as the command line would, without running anything. */
  private static void parses(List<String> args) {
    new CommandLine(new DistilleryCli()).parseArgs(args.toArray(String[]::new)); // throws on an unknown option
  }

  private static void copyXsd(Path dir, String name) throws IOException {
    try (InputStream in = DeployFilesTest.class.getResourceAsStream("/" + name)) {
      assertTrue(in != null, name + " from oozie-client on the test classpath");
      Files.write(dir.resolve(name), in.readAllBytes());
    }
  }

  /** deploy/submit-yarn.sh with {@code env}, a spark-submit on PATH that prints its arguments, one per line. */
  private static Ran submit(Path dir, Map<String, String> env, String fakeSubmitBody, String... args)
      throws Exception {
    Path bin = Files.createDirectories(dir.resolve("bin"));
    Path fake = Files.writeString(bin.resolve("spark-submit"), "#!/usr/bin/env bash\n" + fakeSubmitBody + "\n");
    assertTrue(fake.toFile().setExecutable(true));
    Path jar = Files.writeString(dir.resolve("app.jar"), "");
    List<String> command = new ArrayList<>(List.of("bash", DEPLOY.resolve("submit-yarn.sh").toString()));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
    pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
    pb.environment().put("APP_JAR", jar.toString());
    pb.environment().putAll(env);
    return finish(pb.start());
  }

  /** The process's exit code and output, once it ends (within a minute). */
  private static Ran finish(Process p) throws Exception {
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    return new Ran(p.exitValue(), out);
  }

  @Test
  void submitYarnAsksForGpusOnlyWhenToldAndDividesThemAmongTheExecutorsTasks(@TempDir Path dir) throws Exception {
    String printArgs = "printf '%s\\n' \"$@\"";
    Ran gpus = submit(dir, Map.of("GPUS", "1", "EXECUTOR_CORES", "4", "GPU_DISCOVERY", "/opt/x/gpu-discovery.sh",
        "DEPLOY_MODE", "client", "APP_JAR", "hdfs:///apps/distillery/all.jar"), printArgs, "train", "--run-id",
        "nightly-2026-12-01");
    assertEquals(0, gpus.code(), gpus.output());
    List<String> lines = List.of(gpus.output().split("\n"));
    for (String conf : List.of("spark.executor.resource.gpu.amount=1", "spark.task.resource.gpu.amount=0.25",
        "spark.executor.resource.gpu.discoveryScript=/opt/x/gpu-discovery.sh", "spark.yarn.maxAppAttempts=1",
        "spark.executorEnv.CUDA_DEVICE_ORDER=PCI_BUS_ID")) {
      assertTrue(lines.contains(conf), conf + " in " + lines);
    }
    assertEquals(List.of("hdfs:///apps/distillery/all.jar", "train", "--run-id", "nightly-2026-12-01"),
        lines.subList(lines.size() - 4, lines.size()), "the jar uploaded once, by URI");

    Ran cpu = submit(dir, Map.of("DEPLOY_MODE", "client"), printArgs, "generate", "--run-id", "n");
    assertEquals(0, cpu.code(), cpu.output());
    assertTrue(!cpu.output().contains("resource.gpu"), cpu.output());

    Ran uneven = submit(dir, Map.of("GPUS", "3", "EXECUTOR_CORES", "4"), printArgs, "train");
    assertEquals(2, uneven.code(), uneven.output());
    assertTrue(uneven.output().contains("GPUS=3 must be a whole number of GPUs per executor that divides"),
        uneven.output());
  }

  @Test
  void submitYarnAddsTheOpenLineageListenerAsLineageTestRunsIt(@TempDir Path dir) throws Exception {
    String printArgs = "printf '%s\\n' \"$@\"";
    Ran lineage = submit(dir, Map.of("OPENLINEAGE_URL", "http://marquez:5000", "OPENLINEAGE_JAR",
        "hdfs:///apps/openlineage-spark_2.12-1.36.0.jar", "DEPLOY_MODE", "client"), printArgs, "run");
    assertEquals(0, lineage.code(), lineage.output());
    List<String> lines = List.of(lineage.output().split("\n"));
    assertEquals("hdfs:///apps/openlineage-spark_2.12-1.36.0.jar", lines.get(lines.indexOf("--jars") + 1));
    LineageTest.listener("http://marquez:5000").forEach((k, v) ->
        assertTrue(lines.contains(k + "=" + v), k + "=" + v + " in " + lines));

    Ran noJar = submit(dir, Map.of("OPENLINEAGE_URL", "http://marquez:5000"), printArgs, "run");
    assertEquals(2, noJar.code(), noJar.output());
    assertTrue(noJar.output().contains("OPENLINEAGE_JAR must name"), noJar.output());
  }

  @Test
  void inClusterModeTheDriversExitCodeIsReadBackFromYarnsDiagnostics(@TempDir Path dir) throws Exception {
    // spark-submit as in cluster mode: the application failed, so it exits 1, after the YARN client logged the
    // application master's diagnostics.
    String failed = "echo 'ERROR Client: Application diagnostics message: User application exited with status 3' >&2"
        + "; exit 1";
    Ran gate = submit(dir, Map.of(), failed, "run", "--run-id", "n");
    assertEquals(3, gate.code(), gate.output());
    assertTrue(gate.output().contains("User application exited with status 3"), "the log still reaches stderr");
    Ran crashed = submit(dir, Map.of(), "echo 'Exception in thread main' >&2; exit 1", "run", "--run-id", "n");
    assertEquals(1, crashed.code(), crashed.output());
  }

  /** deploy/gpu-discovery.sh with only {@code bin} and the system's tools on PATH. */
  private static Ran discover(Path bin) throws Exception {
    ProcessBuilder pb = new ProcessBuilder("bash", DEPLOY.resolve("gpu-discovery.sh").toString())
        .redirectErrorStream(true);
    pb.environment().put("PATH", bin + ":/usr/bin:/bin");
    return finish(pb.start());
  }

  @Test
  void theGpuDiscoveryScriptPrintsSparksResourceJsonFromNvidiaSmi(@TempDir Path dir) throws Exception {
    Path bin = Files.createDirectories(dir.resolve("bin"));
    Path smi = Files.writeString(bin.resolve("nvidia-smi"), "#!/bin/sh\necho 0\necho ' 1'\n");
    assertTrue(smi.toFile().setExecutable(true));
    Ran two = discover(bin);
    assertEquals(0, two.code(), two.output());
    JsonNode json = new ObjectMapper().readTree(two.output());
    assertEquals("gpu", json.get("name").asText());
    assertEquals(2, json.get("addresses").size(), two.output());
    assertEquals(List.of("0", "1"), List.of(json.get("addresses").get(0).asText(),
        json.get("addresses").get(1).asText()));

    Files.delete(smi);
    Ran noDriver = discover(bin);
    assertEquals(1, noDriver.code(), noDriver.output());
    assertTrue(noDriver.output().contains("nvidia-smi not found"), noDriver.output());
  }

  @Test
  void theOozieWorkflowAndCoordinatorAreValidAndPassArgumentsTheCliTakes(@TempDir Path xsd) throws Exception {
    for (String name : List.of("oozie-workflow-1.0.xsd", "oozie-common-1.0.xsd", "spark-action-1.0.xsd",
        "oozie-coordinator-0.5.xsd")) {
      copyXsd(xsd, name);
    }
    // The workflow's spark action is in its own namespace: one schema that knows both.
    Files.writeString(xsd.resolve("workflow-with-spark.xsd"), """
        <xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:distillery:test">
          <xs:import namespace="uri:oozie:workflow:1.0" schemaLocation="oozie-workflow-1.0.xsd"/>
          <xs:import namespace="uri:oozie:spark-action:1.0" schemaLocation="spark-action-1.0.xsd"/>
        </xs:schema>
        """);
    Ran workflow = run(xsd, "xmllint", "--noout", "--schema", "workflow-with-spark.xsd",
        DEPLOY.resolve("oozie/workflow.xml").toString());
    assertEquals(0, workflow.code(), workflow.output());
    assertTrue(workflow.output().contains("validates"), workflow.output());
    Ran coordinator = run(xsd, "xmllint", "--noout", "--schema", "oozie-coordinator-0.5.xsd",
        DEPLOY.resolve("oozie/coordinator.xml").toString());
    assertEquals(0, coordinator.code(), coordinator.output());

    List<String> args = new ArrayList<>();
    Matcher arg = Pattern.compile("<arg>([^<]*)</arg>").matcher(Files.readString(DEPLOY.resolve("oozie/workflow.xml")));
    while (arg.find()) {
      args.add(arg.group(1).replace("${runId}", "nightly-2026-12-02"));
    }
    assertEquals(List.of("run", "--config", "nightly.conf", "--run-id", "nightly-2026-12-02"), args);
    parses(args);
  }

  @Test
  void theSystemdUnitsVerifyAndRetryOnlyWhatARetryCanFix() throws Exception {
    Path units = DEPLOY.resolve("systemd");
    Ran verify = run(units, "systemd-analyze", "verify", "--man=no", "distillery-nightly.service",
        "distillery-nightly.timer");
    assertEquals(0, verify.code(), verify.output());
    assertEquals("", verify.output().strip(), "no warnings");
    String service = Files.readString(units.resolve("distillery-nightly.service"));
    assertTrue(service.contains("RestartPreventExitStatus=2 " + DistilleryCli.GATE_FAILED + " "
        + DistilleryCli.TERMS_FORBID), "the gate and the terms are not retried");
    Matcher exec = Pattern.compile("submit-yarn\\.sh (run [^']*)'").matcher(service);
    assertTrue(exec.find(), service);
    List<String> args = new ArrayList<>(List.of(exec.group(1).replace("\"nightly-$(date -u +%%F)\"",
        "nightly-2026-12-02").split(" ")));
    assertEquals(List.of("run", "--config", "/etc/distillery/nightly.conf", "--run-id", "nightly-2026-12-02"), args);
    parses(args);
  }

  @Test
  void theAirflowDagCompilesAndPassesArgumentsTheCliTakes() throws Exception {
    Path dag = DEPLOY.resolve("airflow/distillery_nightly.py");
    Ran compiled = run(DEPLOY, "python3", "-c", "import sys; compile(open(sys.argv[1]).read(), sys.argv[1], 'exec')",
        dag.toString());
    assertEquals(0, compiled.code(), compiled.output());
    // Airflow is not installable here: its DISTILLERY_ARGS and NOT_RETRIED, read with Python's own parser.
    Ran read = run(DEPLOY, "python3", "-c", """
        import ast, json, sys
        tree = ast.parse(open(sys.argv[1]).read())
        values = {t.id: n.value for n in tree.body if isinstance(n, (ast.Assign, ast.AnnAssign))
                  for t in (n.targets if isinstance(n, ast.Assign) else [n.target]) if isinstance(t, ast.Name)}
        names = {k: ast.literal_eval(v) for k, v in values.items() if k in ("HOME", "CONFIG")}
        args = [names["CONFIG"] if isinstance(a, ast.Name) else ast.literal_eval(a)
                for a in values["DISTILLERY_ARGS"].elts]
        print(json.dumps({"args": args, "not_retried": sorted(ast.literal_eval(values["NOT_RETRIED"]))}))
        """, dag.toString());
    assertEquals(0, read.code(), read.output());
    var parsed = new ObjectMapper().readTree(read.output());
    List<String> args = new ArrayList<>();
    parsed.get("args").forEach(a -> args.add(a.asText().replace("{{ ds }}", "2026-12-02")));
    assertEquals(List.of("run", "--config", "/etc/distillery/nightly.conf", "--run-id", "nightly-2026-12-02"), args);
    parses(args);
    assertEquals("[2,3,4]", parsed.get("not_retried").toString(), "bad configuration, the gate and the terms");
  }
}
