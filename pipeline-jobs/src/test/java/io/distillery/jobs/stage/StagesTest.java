package io.distillery.jobs.stage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.distillery.jobs.TextCorpusRuns;
import io.distillery.jobs.ingest.IngestJob;
import io.distillery.jobs.pipeline.Pipeline;
import io.distillery.jobs.pipeline.TaskRegistry;
import io.distillery.run.EvaluateDetails;
import io.distillery.run.GenerateDetails;
import io.distillery.run.IngestDetails;
import io.distillery.run.Stage;
import io.distillery.run.StageManifest;
import io.distillery.run.TrainDetails;
import io.distillery.settings.Settings;
import java.io.InputStream;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Stage reuse on the real ingest job over a small text corpus, in Spark local mode: a finished stage with the same key
 * is reused, a changed section or --force runs it again, a stage whose upstream never ran says what to run.
 */
class StagesTest extends TextCorpusRuns {
  private StageManifest ingest(Settings settings, boolean force) {
    return Stages.runOrReuse(new IngestJob(), StageContext.of(settings, spark), force);
  }

  @Test
  void aFinishedStageIsReusedUntilItsSectionChangesOrItIsForced() {
    StageManifest first = ingest(settings("reuse", Map.of()), false);
    assertEquals(4L, first.counts().get("written"), first.counts().toString());
    assertEquals(corpus.toString(), first.details(IngestDetails.class).corpus());
    assertEquals(first.createdAt(), ingest(settings("reuse", Map.of()), false).createdAt(), "reused");
    assertEquals(first.createdAt(), ingest(settings("reuse", Map.of("distillery.train.epochs", "5")), false)
        .createdAt(), "a section ingest does not read changes nothing");
    StageManifest changed = ingest(settings("reuse", Map.of("distillery.corpus.min-words", "15")), false);
    assertNotEquals(first.configHash(), changed.configHash());
    assertEquals(1L, changed.counts().get("written"), "the 13- and 14-word sentences are now too short: " + changed.counts());
    StageManifest forced = ingest(settings("reuse", Map.of("distillery.corpus.min-words", "15")), true);
    assertEquals(changed.configHash(), forced.configHash());
    assertNotEquals(changed.createdAt(), forced.createdAt(), "--force runs it again");
  }

  @Test
  void aStageWhoseUpstreamNeverRanSaysWhatToRun() {
    Settings s = settings("no-ingest", Map.of());
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> Stages.runOrReuse(
        Pipeline.job(Stage.GENERATE, TaskRegistry.of(s.task())), StageContext.of(s, spark), false));
    assertTrue(e.getMessage().contains("needs stage ingest first") && e.getMessage().contains("--run-id"),
        e.getMessage());
  }

  /**
   * Manifests written before the task packages (by cdabe0d's bench/run.sh and bench/langid.sh) load, their details
   * read typed, and read back they hash as they did when the model card recorded them: lineage from a model to its
   * datasets still resolves.
   */
  @Test
  void manifestsWrittenBeforeLoadTypedAndHashAsTheModelCardRecorded() throws Exception {
    for (String task : List.of("embed", "classify")) {
      Map<Stage, StageManifest> run = new EnumMap<>(Stage.class);
      for (Stage stage : Stage.values()) {
        run.put(stage, StageManifest.fromJson(fixture(task, stage.label() + ".manifest.json")));
      }
      JsonNode card = StageManifest.json().readTree(fixture(task, "model-card.json"));
      assertEquals(card.at("/datasets/ingest_manifest_hash").asText(), run.get(Stage.INGEST).hash(), task);
      assertEquals(card.at("/datasets/generate_manifest_hash").asText(), run.get(Stage.GENERATE).hash(), task);
      assertEquals(task, run.get(Stage.GENERATE).details(GenerateDetails.class).task());
      TrainDetails train = run.get(Stage.TRAIN).details(TrainDetails.class);
      assertEquals(card.at("/chosen_epoch").asInt(), train.chosenEpoch(), task);
      assertEquals(card.at("/training/epochs").size(), train.epochs().size(), task);
      EvaluateDetails evaluate = run.get(Stage.EVALUATE).details(EvaluateDetails.class);
      assertTrue(evaluate.gatePassed() && evaluate.gateFailures().isEmpty(), task);
    }
    StageManifest embed = StageManifest.fromJson(fixture("embed", "generate.manifest.json"));
    assertEquals(384, embed.details().get("embedding_dimension"));
  }

  private byte[] fixture(String task, String name) throws Exception {
    try (InputStream in = getClass().getResourceAsStream("/runs-at-cdabe0d/" + task + "/" + name)) {
      return in.readAllBytes();
    }
  }
}
