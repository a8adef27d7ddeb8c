package io.distillery.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A notebook executed as CI and a data team's scheduler run it: {@code jupyter nbconvert --execute}, headless, on a
 * run given by DISTILLERY_ROOT and DISTILLERY_RUN. A cell that fails fails nbconvert.
 */
public final class Notebooks {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String FIGURES = "FIGURES ";

  private Notebooks() {}

  /** Executes {@code notebook} into {@code out}; returns the figures its last line printed. */
  public static JsonNode execute(Path notebook, Path out, String root, String runId) throws Exception {
    Path log = Files.createTempFile(out, "nbconvert", ".log");
    ProcessBuilder pb = new ProcessBuilder("jupyter", "nbconvert", "--to", "notebook", "--execute",
        "--ExecutePreprocessor.timeout=300", "--output-dir", out.toString(), notebook.toString())
        .redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("DISTILLERY_ROOT", root);
    pb.environment().put("DISTILLERY_RUN", runId);
    pb.environment().put("MPLBACKEND", "Agg");
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new AssertionError("jupyter runs the notebooks: pip install pyarrow duckdb pandas matplotlib nbconvert "
          + "nbclient ipykernel (.ci/run does)", e);
    }
    assertTrue(p.waitFor(10, TimeUnit.MINUTES), notebook + " finished");
    assertEquals(0, p.exitValue(), notebook + ": " + Files.readString(log));
    JsonNode executed = JSON.readTree(Files.readString(out.resolve(notebook.getFileName()), StandardCharsets.UTF_8));
    String figures = null;
    for (JsonNode cell : executed.get("cells")) {
      for (JsonNode output : cell.path("outputs")) {
        JsonNode text = output.path("text"); // a string, or a list of lines
        StringBuilder all = new StringBuilder(text.isArray() ? "" : text.asText());
        text.forEach(line -> all.append(line.asText()));
        for (String line : all.toString().split("\n")) {
          if (line.startsWith(FIGURES)) {
            figures = line.substring(FIGURES.length());
          }
        }
      }
    }
    assertTrue(figures != null, notebook + " printed its figures");
    return JSON.readTree(figures);
  }
}
