package io.distillery.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.distillery.run.StageManifest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A driver killed (SIGKILL) in the middle of a run, and the same command started again, as a scheduler's retry does:
 * the second driver reuses the stages the first finished (their manifests untouched) and runs the rest.
 */
class DriverRestartTest {
  @TempDir
  Path dir;

  private List<String> command(Path root) {
    List<String> args = new ArrayList<>(List.of("run"));
    for (Map.Entry<String, String> e : TestRuns.small(root, "restarted").entrySet()) {
      args.add("--set");
      args.add(e.getKey() + "=" + e.getValue());
    }
    args.add("--set");
    args.add("distillery.corpus.max-documents=400");
    return TestJvms.command("2g", "io.distillery.jobs.cli.DistilleryCli", args);
  }

  private static Process start(List<String> command, Path log) throws Exception {
    return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  @Test
  void aDriverKilledDuringTrainIsRestartedAndResumesAfterGenerate() throws Exception {
    Path root = dir.resolve("runs");
    Path generated = root.resolve("runs/restarted/generate.manifest.json");
    Process first = start(command(root), dir.resolve("first.log"));
    long deadline = System.nanoTime() + Duration.ofMinutes(4).toNanos();
    while (!Files.exists(generated) && first.isAlive() && System.nanoTime() < deadline) {
      Thread.sleep(200);
    }
    assertTrue(Files.exists(generated), "generate finished: " + Files.readString(dir.resolve("first.log")));
    Thread.sleep(500); // into train
    first.destroyForcibly().waitFor();
    assertFalse(Files.exists(root.resolve("runs/restarted/evaluate.manifest.json")), "killed before the end");
    JsonNode ingestBefore = StageManifest.json().readTree(root.resolve("runs/restarted/ingest.manifest.json")
        .toFile());
    JsonNode generateBefore = StageManifest.json().readTree(generated.toFile());

    Process second = start(command(root), dir.resolve("second.log"));
    assertTrue(second.waitFor(6, TimeUnit.MINUTES), "the restarted run ends");
    String log = Files.readString(dir.resolve("second.log"));
    assertEquals(0, second.exitValue(), log);
    assertTrue(log.contains("Stage ingest of run 'restarted' already finished") && log.contains(
        "Stage generate of run 'restarted' already finished"), "ingest and generate reused:\n" + log);
    assertEquals(ingestBefore, StageManifest.json().readTree(root.resolve("runs/restarted/ingest.manifest.json")
        .toFile()));
    assertEquals(generateBefore, StageManifest.json().readTree(generated.toFile()), "generate was not run again");
    assertTrue(Files.exists(root.resolve("runs/restarted/evaluate.manifest.json")));
  }
}
