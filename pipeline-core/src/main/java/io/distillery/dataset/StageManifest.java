package io.distillery.dataset;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.distillery.teacher.TeacherIdentity;
import io.distillery.util.Hashing;
import io.distillery.util.Version;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/**
 * Written last by each stage: what it produced, from what, with which config and code, and its row
 * accounting. Its presence marks the stage finished for this run; {@code run} reuses a finished stage
 * whose config hash matches.
 *
 * @param counts row accounting, e.g. rows_in, written, failed, quarantined
 * @param details stage-specific facts (label vocabulary, metrics, paths)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record StageManifest(
    String stage,
    String runId,
    String configHash,
    String codeVersion,
    String createdAt,
    TeacherIdentity teacher,
    Map<String, Long> counts,
    Map<String, Object> details) {

  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT)
      .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

  public static StageManifest of(Stage stage, String runId, String configHash, TeacherIdentity teacher,
      Map<String, Long> counts, Map<String, Object> details) {
    return new StageManifest(stage.label(), runId, configHash, Version.current(), Instant.now().toString(),
        teacher, new TreeMap<>(counts), new TreeMap<>(details));
  }

  public byte[] toJson() {
    try {
      return JSON.writeValueAsBytes(this);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static StageManifest fromJson(byte[] json) {
    try {
      return JSON.readValue(json, StageManifest.class);
    } catch (IOException e) {
      throw new UncheckedIOException("Unreadable stage manifest", e);
    }
  }

  /** Content hash of the manifest: recorded by the stages and model cards that consume it. */
  public String hash() {
    return Hashing.sha256Hex(toJson()).substring(0, 16);
  }

  public static ObjectMapper json() {
    return JSON;
  }
}
