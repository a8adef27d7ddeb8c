package io.distillery.run;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.distillery.dataset.DatasetKind;
import io.distillery.provenance.TeacherIdentity;
import io.distillery.settings.SignOff;
import io.distillery.util.Hashing;
import io.distillery.util.Version;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Written last by each stage: what it produced, from what, with which config and code, and its row accounting. Its
 * presence marks the stage finished for this run; {@code run} reuses a finished stage whose config hash matches.
 * On disk {@code details} is a JSON object; code reads it through a typed view ({@link #details(Class)}), so
 * manifests written before a record gained a field still load.
 *
 * @param counts row accounting, e.g. rows_in, written, failed, quarantined
 * @param details stage-specific facts ({@link StageDetails}: paths, label vocabulary, metrics, the gate)
 * @param tables the snapshot the stage committed to each dataset it wrote, by dataset name (null in manifests
 *     written before the datasets were tables)
 * @param signOff who signed off the run although the teacher's terms do not allow it, and why (null: not needed)
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
    Map<String, Object> details,
    Map<String, TableSnapshot> tables,
    SignOff signOff) {

  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT)
      .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
  private static final TypeReference<Map<String, Object>> OBJECT = new TypeReference<>() {};
  /** Prefix of the counts of rows a purge removed from a dataset. */
  public static final String PURGED = "purged_";

  public static StageManifest of(Stage stage, String runId, String configHash, TeacherIdentity teacher,
      Map<String, Long> counts, StageDetails details, double elapsedSeconds, Map<String, TableSnapshot> tables,
      SignOff signOff) {
    Map<String, Object> all = new TreeMap<>(details.toMap());
    all.put(StageDetails.ELAPSED_SECONDS, elapsedSeconds);
    return new StageManifest(stage.label(), runId, configHash, Version.current(), Instant.now().toString(),
        teacher, new TreeMap<>(counts), all, tables.isEmpty() ? null : new TreeMap<>(tables), signOff);
  }

  /** The snapshot this stage committed to a dataset's table, if it wrote that dataset and recorded it. */
  public Optional<TableSnapshot> table(DatasetKind kind) {
    return tables == null ? Optional.empty() : Optional.ofNullable(tables.get(kind.directory()));
  }

  /** The same manifest with the snapshots it committed (a run imported from Parquet directories). */
  public StageManifest withTables(Map<String, TableSnapshot> committed) {
    return new StageManifest(stage, runId, configHash, codeVersion, createdAt, teacher, counts, details,
        new TreeMap<>(committed), signOff);
  }

  /**
   * The same manifest after a purge rewrote some of its datasets (or moved them, rows unchanged, onto a snapshot
   * that no longer holds purged files): their new snapshots, and the rows removed from each added to its
   * {@code purged_DATASET} count. Its hash changes, so the stages after it run again.
   */
  public StageManifest purged(Map<String, TableSnapshot> rewritten, Map<String, Long> removed) {
    Map<String, TableSnapshot> all = new TreeMap<>(tables == null ? Map.of() : tables);
    all.putAll(rewritten);
    Map<String, Long> newCounts = new TreeMap<>(counts);
    removed.forEach((dataset, rows) -> newCounts.merge(PURGED + dataset, rows, Long::sum));
    return new StageManifest(stage, runId, configHash, codeVersion, createdAt, teacher, newCounts, details, all,
        signOff);
  }

  /** The details as one of the {@link StageDetails} records (or a task's record of its own facts). */
  public <T> T details(Class<T> type) {
    return JSON.convertValue(details, type);
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

  /** Any of the run's records (manifests, model cards, metrics) as a JSON object, the way they are written. */
  static Map<String, Object> asMap(Object record) {
    return JSON.convertValue(record, OBJECT);
  }

  /** The mapper every run record is written and read with (indented, map keys sorted, unknown fields ignored). */
  public static ObjectMapper json() {
    return JSON;
  }
}
