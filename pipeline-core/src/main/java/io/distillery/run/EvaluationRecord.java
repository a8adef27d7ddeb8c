package io.distillery.run;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.distillery.provenance.TeacherIdentity;
import io.distillery.settings.Settings;
import io.distillery.settings.TaskKind;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A student's evaluation (reports/RUN/metrics.json): its model, the teacher, the held-out rows it was scored on,
 * every metric and the gate's verdict;
 * with {@code promotedAt} and {@code promotionReason} set, a promotion (models/promoted.json, and a line of
 * models/promotions.jsonl); {@code tainted}: the purges that removed rows its student learnt from (null: none).
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record EvaluationRecord(
    String runId,
    TaskKind task,
    String studentModel,
    String studentModelSha256,
    TeacherIdentity teacher,
    HeldOut heldOut,
    Map<String, Double> metrics,
    GateRecord gate,
    String promotedAt,
    String promotionReason,
    List<Taint> tainted) {

  /**
   * The held-out rows scored: their number and a fingerprint of their row ids that does not depend on their order
   * (so two nights' students are seen to be scored on the same rows). The split is a hash of each row id, so the
   * rows of a prompt stay held out night after night.
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record HeldOut(long rows, String rowIdsFingerprint) {}

  /**
   * The gate's verdict, its failures in words and the thresholds it applied.
   *
   * @param comparedWith the run of the promoted student it was also held against (null: none, thresholds only)
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record GateRecord(boolean passed, List<String> failures, Settings.Gate settings, String comparedWith) {}

  /** This record as the promotion of its student, now, for {@code reason}. */
  public EvaluationRecord promoted(String reason) {
    return new EvaluationRecord(runId, task, studentModel, studentModelSha256, teacher, heldOut, metrics, gate,
        Instant.now().toString(), reason, tainted);
  }

  /** This record with {@code taint} added (once per purged selection): a purge removed rows its student learnt from. */
  public EvaluationRecord withTaint(Taint taint) {
    if (tainted != null && tainted.stream().anyMatch(t -> t.what().equals(taint.what()))) {
      return this; // the same purge run again (e.g. after it was killed)
    }
    List<Taint> all = new ArrayList<>(tainted == null ? List.of() : tainted);
    all.add(taint);
    return new EvaluationRecord(runId, task, studentModel, studentModelSha256, teacher, heldOut, metrics, gate,
        promotedAt, promotionReason, List.copyOf(all));
  }

  /** Whether a purge removed rows its student learnt from. */
  public boolean learntFromPurgedRows() {
    return tainted != null && !tainted.isEmpty();
  }

  /** This record on one line, as a line of a JSON Lines history. */
  public String toJsonLine() {
    try {
      return StageManifest.json().writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsString(this);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static EvaluationRecord fromJson(byte[] json) {
    try {
      return StageManifest.json().readValue(json, EvaluationRecord.class);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read an evaluation record", e);
    }
  }

  public byte[] toJson() {
    try {
      return StageManifest.json().writeValueAsBytes(this);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
