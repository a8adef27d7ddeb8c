package io.distillery.jobs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.distillery.jobs.cli.DistilleryCli;
import io.distillery.run.RunLayout;
import io.distillery.run.Stage;
import io.distillery.run.StageManifest;
import io.distillery.settings.Settings;
import io.distillery.util.Hashing;
import java.io.IOException;
import java.net.URI;
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

  /**
   * The signed-off run's transparency report, against what the run recorded and what its files hold: the sign-off,
   * the teacher and its terms, rows per dataset as generate counted them, every data file's sha256 as read here, the
   * commit this code was built from, the evaluation, and the EU summary's synthetic-data section.
   */
  private static void transparencyReportRecordsTheRun(RunLayout layout) throws IOException {
    JsonNode report = json(Path.of(layout.transparency()));
    List<String> signedStages = new ArrayList<>();
    report.path("sign_offs").forEach(s -> {
      signedStages.add(s.path("stage").asText());
      assertEquals("Jane Roe, legal", s.path("sign_off").path("who").asText());
    });
    assertEquals(List.of("generate", "train", "evaluate"), signedStages, report.path("sign_offs").toString());

    JsonNode generate = json(Path.of(layout.manifest(Stage.GENERATE)));
    assertEquals(1, report.path("teachers").size());
    JsonNode teacher = report.path("teachers").get(0);
    assertEquals("sentence-transformers/all-MiniLM-L6-v2", teacher.path("identity").path("name").asText());
    assertEquals("ExampleAI-ToS", teacher.path("identity").path("termsId").asText());
    assertEquals("2026-01-15", teacher.path("identity").path("termsVersion").asText());
    assertEquals(generate.path("counts").path("written").asLong(),
        teacher.path("rows_by_dataset").path("teacher-embeddings").asLong(), teacher.toString());
    assertEquals("sentence-transformers/all-MiniLM-L6-v2",
        teacher.path("served_models").get(0).path("served_model").asText());

    int files = 0;
    for (JsonNode dataset : report.path("datasets")) {
      long rows = 0;
      for (JsonNode f : dataset.path("files")) {
        Path file = Path.of(URI.create(f.path("path").asText()));
        assertEquals(Hashing.sha256Hex(Files.readAllBytes(file)), f.path("sha256").asText(), file.toString());
        rows += f.path("rows").asLong();
        files++;
      }
      assertEquals(dataset.path("rows").asLong(), rows, dataset.path("dataset").asText());
    }
    assertTrue(files >= 4, report.path("datasets").toString());
    assertTrue(report.path("datasets").findValuesAsText("dataset").containsAll(List.of("prompts", "quarantine",
        "teacher-embeddings", "teacher-token-embeddings")), report.path("datasets").toString());

    Path repo = Path.of(System.getProperty("test.repo.root", "."));
    if (Files.isDirectory(repo.resolve(".git"))) {
      Process git = new ProcessBuilder("git", "-C", repo.toString(), "rev-parse", "HEAD").start();
      String head = new String(git.getInputStream().readAllBytes()).trim();
      assertEquals(head, report.path("code").path("commit").asText(), "the commit this build was made from");
    }
    assertEquals(report.path("code").path("commit").asText().substring(0, 12),
        generate.path("codeVersion").asText().replaceAll(".*\\+g([0-9a-f]{12}).*", "$1"),
        "manifests record the commit too");

    assertTrue(report.path("evaluation").path("gate_passed").asBoolean(), report.path("evaluation").toString());
    assertTrue(report.path("evaluation").path("metrics").size() > 5);
    JsonNode eu = report.path("eu_public_summary");
    assertTrue(eu.path("data_sources").path("synthetic_data").path("used").asBoolean());
    assertTrue(eu.path("data_sources").path("synthetic_data").path("generating_models").get(0).asText()
        .startsWith("sentence-transformers/all-MiniLM-L6-v2"), eu.toString());
    assertTrue(eu.path("data_sources").path("publicly_available_datasets").get(0).asText().contains("Europarl"));
    long trainRows = eu.path("general_information").path("training_rows").asLong();
    assertTrue(trainRows > 0 && trainRows < generate.path("counts").path("written").asLong(), eu.toString());
    assertTrue(eu.path("data_processing").path("rights_reservations").asText().contains("Signed off by Jane Roe"));

    String page = Files.readString(Path.of(layout.transparencyPage()));
    assertTrue(page.contains("Public summary of training content") && page.contains("Jane Roe, legal")
        && page.contains(report.path("datasets").get(0).path("files").get(0).path("sha256").asText()), page);
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
    transparencyReportRecordsTheRun(layout);

    // The commands a user runs on it: the report written again, a purge's dry run (which changes nothing).
    Files.delete(Path.of(layout.transparency()));
    CliRuns.Result again = cli(args(root, "transparency"));
    assertEquals(0, again.code(), again.err());
    assertTrue(Files.exists(Path.of(layout.transparency())) && Files.exists(Path.of(layout.transparencyPage())));
    byte[] generate = Files.readAllBytes(Path.of(layout.manifest(Stage.GENERATE)));
    CliRuns.Result dry = cli(args(root, "purge", "--terms", "ExampleAI-ToS", "--dry-run"));
    assertEquals(0, dry.code(), dry.err());
    assertArrayEquals(generate, Files.readAllBytes(Path.of(layout.manifest(Stage.GENERATE))), "a dry run changes "
        + "nothing");
    assertFalse(Files.exists(Path.of(layout.purgeAudit())), "a dry run is not a purge");

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
