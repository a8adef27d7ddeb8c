package io.distillery.jobs.evaluate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.distillery.jobs.CliRuns;
import io.distillery.jobs.HeadlessBrowser;
import io.distillery.jobs.cli.DistilleryCli;
import io.distillery.run.EvaluationRecord;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gate against last night, through the command line a scheduler runs: three nights of the stories example over
 * the same prompts (so the same held-out rows), the second trained for fewer epochs. The first is promoted on its
 * thresholds; the second is refused (exit 3) for being worse than the promoted student, which stays promoted; the
 * third, better, is promoted; a rollback promotes the first again, and the history records all of it.
 */
class PromotionTest {
  @TempDir
  static Path root;

  private static CliRuns.Result cli(String... args) {
    return CliRuns.run(args);
  }

  private static List<String> common() {
    Path repo = Path.of(System.getProperty("test.repo.root", ".."));
    List<String> args = new ArrayList<>(List.of("--config", repo.resolve("conf/examples/stories.conf").toString()));
    for (String kv : List.of("run.root=" + root.toUri(), "spark.master=local[2]", "spark.partitions=2",
        "corpus.path=" + repo.resolve("conf/examples/story-prompts.txt"), "generate.samples=2",
        "generate.sampling.max-tokens=24", "student.max-tokens=64", "train.hard-label-ablation=false",
        "evaluate.samples=0", "evaluate.throughput-rows=16", "evaluate.gate.max-perplexity-ratio=1000",
        "evaluate.gate.min-token-agreement=0")) {
      args.add("--set");
      args.add(kv);
    }
    return args;
  }

  private static CliRuns.Result night(String runId, int epochs) {
    List<String> args = new ArrayList<>(List.of("run", "--run-id", runId, "--set", "train.epochs=" + epochs));
    args.addAll(common());
    return cli(args.toArray(String[]::new));
  }

  private static EvaluationRecord promoted() throws IOException {
    return EvaluationRecord.fromJson(Files.readAllBytes(root.resolve("models/promoted.json")));
  }

  private static EvaluationRecord evaluated(String runId) throws IOException {
    return EvaluationRecord.fromJson(Files.readAllBytes(root.resolve("reports/" + runId + "/metrics.json")));
  }

  private static List<String> history() throws IOException {
    return Files.readAllLines(root.resolve("models/promotions.jsonl")).stream()
        .map(l -> EvaluationRecord.fromJson(l.getBytes(StandardCharsets.UTF_8)).runId()).toList();
  }

  @Test
  void aWorseStudentIsRefusedABetterOneIsPromotedAndARollbackRestoresTheEarlierOne() throws Exception {
    assertEquals(0, night("night-1", 2).code());
    EvaluationRecord first = promoted();
    assertEquals("night-1", first.runId());
    assertNull(first.gate().comparedWith(), "the first night has no promoted student to compare with");
    assertTrue(first.promotionReason().startsWith("gate passed"), first.promotionReason());

    CliRuns.Result worse = night("night-2", 1);
    assertEquals(DistilleryCli.GATE_FAILED, worse.code(), worse.err());
    assertEquals("night-1", promoted().runId(), "the previous student stays promoted");
    EvaluationRecord second = evaluated("night-2");
    assertEquals("night-1", second.gate().comparedWith());
    assertTrue(second.gate().failures().stream().anyMatch(f -> f.contains("worse than the promoted student's")
        && f.contains("run 'night-1'")), second.gate().failures().toString());
    assertEquals(first.metrics().get("perplexity_ratio"), second.metrics().get("promoted.perplexity_ratio"), 1e-9,
        "the promoted student scored again on the same held-out rows");
    assertEquals(first.heldOut(), second.heldOut(), "the held-out split is the same rows night after night");
    assertTrue(first.heldOut().rows() > 0 && first.heldOut().rowIdsFingerprint().matches("[0-9a-f]{32}"),
        first.heldOut().toString());
    assertEquals(first.heldOut().rows(), first.metrics().get("held_out_rows").longValue());

    assertEquals(0, night("night-3", 3).code());
    EvaluationRecord third = promoted();
    assertEquals("night-3", third.runId());
    assertEquals("night-1", third.gate().comparedWith());
    assertTrue(third.metrics().get("perplexity_ratio") < first.metrics().get("perplexity_ratio"));
    JsonNode page = HeadlessBrowser.load(root.resolve("reports/night-3/report.html"), List.of("#gate", "#verdict"));
    assertEquals(page.get("images").asInt(), page.get("drawn").asInt(), "every chart drawn, the trend's too: " + page);
    String gate = page.at("/texts/#gate").asText();
    assertTrue(gate.contains("Perplexity ratio") && gate.contains("promoted (run night-1)")
        && gate.contains("change (+ better)"), gate);
    assertTrue(page.at("/texts/#verdict").asText().contains("none is worse than the promoted student's (run "
        + "night-1)"), page.toString());
    assertTrue(Files.readString(root.resolve("reports/night-3/report.html"))
        .contains("Gated metrics of the promoted students"), "the trend of the promoted students");

    List<String> rollback = new ArrayList<>(List.of("promote", "--run-id", "night-1", "--reason",
        "night-3 misbehaves in production"));
    rollback.addAll(common());
    CliRuns.Result back = cli(rollback.toArray(String[]::new));
    assertEquals(0, back.code(), back.err());
    EvaluationRecord restored = promoted();
    assertEquals("night-1", restored.runId());
    assertEquals(first.studentModelSha256(), restored.studentModelSha256());
    assertEquals("rollback: night-3 misbehaves in production", restored.promotionReason());
    assertEquals(List.of("night-1", "night-3", "night-1"), history());

    List<String> refused = new ArrayList<>(List.of("promote", "--run-id", "night-2", "--reason", "try"));
    refused.addAll(common());
    CliRuns.Result failed = cli(refused.toArray(String[]::new));
    assertEquals(1, failed.code());
    assertTrue(failed.err().contains("failed its promotion gate"), failed.err());
    assertEquals("night-1", promoted().runId());

    // A night set to train on GPUs, on this machine without any: stopped before training, not retried (exit 2).
    List<String> gpu = new ArrayList<>(List.of("train", "--run-id", "night-1", "--force", "--set",
        "train.device.kind=gpu"));
    gpu.addAll(common());
    CliRuns.Result noGpu = cli(gpu.toArray(String[]::new));
    assertEquals(2, noGpu.code(), noGpu.err());
    assertTrue(noGpu.err().contains("train.device.kind = gpu, but ND4J on the driver loaded CpuBackend"),
        noGpu.err());
  }
}
