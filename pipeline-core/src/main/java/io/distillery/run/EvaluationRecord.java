package io.distillery.run;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.distillery.provenance.TeacherIdentity;
import io.distillery.settings.Settings;
import io.distillery.settings.TaskKind;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A student's evaluation (reports/RUN/metrics.json): its model, the teacher, every metric and the gate's verdict;
 * with {@code promotedAt} set, the promotion record (models/promoted.json).
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record EvaluationRecord(
    String runId,
    TaskKind task,
    String studentModel,
    String studentModelSha256,
    TeacherIdentity teacher,
    Map<String, Double> metrics,
    GateRecord gate,
    String promotedAt) {

  /** The gate's verdict, its failures in words and the thresholds it applied. */
  public record GateRecord(boolean passed, List<String> failures, Settings.Gate settings) {}

  /** This record as the promotion of its student, now. */
  public EvaluationRecord promoted() {
    return new EvaluationRecord(runId, task, studentModel, studentModelSha256, teacher, metrics, gate,
        Instant.now().toString());
  }

  public byte[] toJson() {
    try {
      return StageManifest.json().writeValueAsBytes(this);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
