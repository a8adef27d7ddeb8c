package io.distillery.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.distillery.jobs.cli.DistilleryCli;
import io.distillery.run.RunLayout;
import io.distillery.run.Stage;
import io.distillery.run.StageManifest;
import io.distillery.settings.Settings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The teacher's terms on the command line, as a user meets them: a run whose student the terms do not allow is
 * refused before any work, a sign-off lets it go ahead and is recorded by every stage and the model card, and the
 * terms recorded when the rows were generated, not the config, decide whether train may learn from them.
 */
class TermsTest {
  private static final String SIGN_OFF = "Jane Roe, legal: licence LA-2026-17 allows classifiers and embeddings";

  private static List<String> args(Path root, String command, String... more) {
    List<String> a = new ArrayList<>(List.of(command, "--run-id", "terms", "--set", "run.root=" + root,
        "--set", "spark.master=local[2]", "--set", "spark.partitions=2", "--set", "corpus.max-documents=1200",
        "--set", "train.epochs=1", "--set", "train.batch-size=32", "--set", "evaluate.pairwise-rows=100",
        "--set", "evaluate.throughput-rows=32", "--set", "evaluate.gate.min-mean-cosine=0",
        "--set", "evaluate.gate.min-neighbour-recall=0", "--set", "teacher.terms.id=ExampleAI-ToS",
        "--set", "teacher.terms.version=2026-01-15"));
    a.addAll(List.of(more));
    return a;
  }

  private static CliRuns.Result cli(List<String> args) {
    return CliRuns.run(args.toArray(String[]::new));
  }

  private static JsonNode json(Path file) throws IOException {
    return StageManifest.json().readTree(Files.readAllBytes(file));
  }

  @Test
  void aStudentTheTermsDoNotAllowIsRefusedUnlessSignedOffAndTheRowsTermsDecideTraining(@TempDir Path root)
      throws IOException {
    RunLayout layout = RunLayout.of(new Settings.Run("terms", root.toString()));
    CliRuns.Result refused = cli(args(root, "run", "--set", "teacher.terms.students=[classifier]"));
    assertEquals(DistilleryCli.TERMS_FORBID, refused.code(), refused.err());
    assertTrue(refused.err().contains("Refusing to run generate: the terms of teacher "
        + "'sentence-transformers/all-MiniLM-L6-v2' (ExampleAI-ToS 2026-01-15, ") && refused.err().contains(
        "teacher.terms.students = [classifier] does not include embedding-model"), refused.err());
    assertFalse(Files.exists(Path.of(layout.manifest(Stage.INGEST))), "nothing ran");

    CliRuns.Result signed = cli(args(root, "run", "--set", "teacher.terms.students=[classifier]",
        "--sign-off", SIGN_OFF));
    assertEquals(0, signed.code(), signed.err());
    for (Stage stage : List.of(Stage.GENERATE, Stage.TRAIN, Stage.EVALUATE)) {
      JsonNode signOff = json(Path.of(layout.manifest(stage))).path("signOff");
      assertEquals("Jane Roe, legal", signOff.path("who").asText(), stage + " manifest records the sign-off");
      assertEquals("licence LA-2026-17 allows classifiers and embeddings", signOff.path("why").asText());
    }
    assertTrue(json(Path.of(layout.manifest(Stage.INGEST))).path("signOff").isMissingNode(),
        "ingest reads no teacher output: nothing to sign off");
    JsonNode card = json(Path.of(layout.modelCard()));
    assertEquals("Jane Roe, legal", card.path("sign_off").path("who").asText(), card.toString());
    assertEquals("[\"classifier\"]", card.path("teacher").path("allowedStudents").toString(), card.toString());

    // The rows were generated under terms that allow only classifiers: editing the config to allow embedding
    // models does not make them trainable without a sign-off.
    CliRuns.Result edited = cli(args(root, "train", "--force", "--set",
        "teacher.terms.students=[embedding-model]"));
    assertEquals(DistilleryCli.TERMS_FORBID, edited.code(), edited.err());
    assertTrue(edited.err().contains("Refusing to run train on rows generated under them")
        && edited.err().contains("teacher.terms.students = [classifier] does not include embedding-model"),
        edited.err());
  }
}
