package io.distillery.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.distillery.jobs.cli.DistilleryCli;
import io.distillery.run.RunLayout;
import io.distillery.run.Stage;
import io.distillery.settings.Settings;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line's contract with schedulers: exit codes and messages. */
class CliTest {

  private static CliRuns.Result run(String... args) {
    return CliRuns.run(args);
  }

  @Test
  void aMistypedKeyFailsWithExitCode2NamingTheKey(@TempDir Path root) {
    CliRuns.Result r = run("ingest", "--set", "run.root=" + root, "--set", "train.epoch=3");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("distillery.train.epoch: unknown key"), r.err());
  }

  @Test
  void aBadValueFailsWithExitCode2NamingTheKey(@TempDir Path root) {
    CliRuns.Result r = run("run", "--set", "run.root=" + root, "--set", "corpus.source=pdf");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("distillery.corpus.source: must be one of"), r.err());
  }

  @Test
  void aTeacherWhoseTermsForbidDistillationIsRefusedBeforeAnyWork(@TempDir Path root) {
    CliRuns.Result r = run("run", "--set", "run.root=" + root, "--set", "teacher.terms.distillation=forbidden",
        "--set", "teacher.terms.id=ExampleAI-ToS-2026", "--set", "corpus.max-documents=50");
    assertEquals(DistilleryCli.TERMS_FORBID, r.code());
    assertTrue(r.err().contains("teacher.terms.distillation = forbidden: no model may be trained on the outputs")
        && r.err().contains("ExampleAI-ToS-2026"), r.err());
    assertFalse(Files.exists(root.resolve("tables")) || Files.exists(root.resolve("datasets")), "nothing was written");
  }

  @Test
  void aGpuTeacherOnTheCpuBuildStopsBeforeAnyWorkWithExitCode2(@TempDir Path root) {
    CliRuns.Result r = run("run", "--run-id", "gpu", "--set", "run.root=" + root, "--set", "teacher.device.kind=gpu",
        "--set", "corpus.max-documents=50", "--set", "spark.master=local[1]");
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("teacher.device.kind = gpu, but this ONNX Runtime has no CUDA execution provider")
        && r.err().contains("build with -Pcuda"), r.err());
    RunLayout layout = RunLayout.of(new Settings.Run("gpu", root.toString()));
    assertFalse(Files.exists(Path.of(layout.manifest(Stage.INGEST))), "refused before ingest");
    CliRuns.Result generate = run("generate", "--run-id", "gpu", "--set", "run.root=" + root, "--set",
        "teacher.device.kind=gpu", "--set", "spark.master=local[1]");
    assertEquals(2, generate.code(), generate.err());
    assertFalse(Files.exists(Path.of(layout.manifest(Stage.GENERATE))), "generate asked nothing");
  }

  @Test
  void exportOfARunWithoutACorpusSaysWhichStageToRunAndAnUnknownFormatIsAUsageError(@TempDir Path root) {
    String config = Path.of(System.getProperty("test.repo.root", "..")).resolve("conf/examples/stories-corpus.conf")
        .toString();
    CliRuns.Result r = run("export", "--config", config, "--set", "run.root=" + root.toUri(), "--set",
        "spark.master=local[1]", "--output", root.resolve("out").toString());
    assertEquals(1, r.code());
    assertTrue(r.err().contains("has no table") && r.err().contains("run its generate stage first"), r.err());
    CliRuns.Result usage = run("export", "--config", config, "--format", "csv", "--output",
        root.resolve("x").toString());
    assertEquals(2, usage.code());
    assertTrue(usage.err().contains("--format") && usage.err().contains("JSONL"), usage.err());
  }

  @Test
  void serveTeacherWithTheStudentOfARunThatHasNoneSaysToTrainFirst(@TempDir Path root) {
    String config = Path.of(System.getProperty("test.repo.root", "..")).resolve("conf/examples/stories.conf")
        .toString();
    CliRuns.Result r = run("serve-teacher", "--student", "--config", config, "--set", "run.root=" + root.toUri(),
        "--set", "spark.master=local[1]", "--set", "serve.port=0");
    assertEquals(1, r.code());
    assertTrue(r.err().contains("has no trained student") && r.err().contains("distillery train"), r.err());
  }

  @Test
  void serveTeacherRefusesToStartWithoutTheTokenItWasToldToRequire() {
    CliRuns.Result r = run("serve-teacher", "--set", "serve.port=0", "--set",
        "serve.token-env=DISTILLERY_TEST_TOKEN_THAT_IS_NOT_SET");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("DISTILLERY_TEST_TOKEN_THAT_IS_NOT_SET is not set"), r.err());
  }

  @Test
  void tablesNeedsASubcommandAndImportNeedsARun(@TempDir Path root) {
    CliRuns.Result bare = run("tables");
    assertEquals(2, bare.code());
    assertTrue(bare.err().contains("Missing required subcommand") && bare.err().contains("maintain"), bare.err());
    CliRuns.Result nothing = run("tables", "import", "--set", "run.root=" + root, "--run-id", "never-ran");
    assertEquals(1, nothing.code());
    assertTrue(nothing.err().contains("Run 'never-ran' has no ingest or generate manifest"), nothing.err());
  }

  @Test
  void helpListsTheStages() {
    PrintStream saved = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      assertEquals(0, DistilleryCli.execute("--help"));
    } finally {
      System.setOut(saved);
    }
    String help = out.toString(StandardCharsets.UTF_8);
    for (String stage : new String[] {"ingest", "generate", "train", "evaluate", "run", "serve-teacher", "tables"}) {
      assertTrue(help.contains(stage), help);
    }
  }
}
