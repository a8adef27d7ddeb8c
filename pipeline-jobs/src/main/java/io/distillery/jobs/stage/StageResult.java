package io.distillery.jobs.stage;

import io.distillery.provenance.TeacherIdentity;
import io.distillery.run.StageDetails;
import java.util.Map;

/**
 * What a stage reports: its row accounting, its typed details, and the teacher it used, if any.
 *
 * @param teacher the teacher whose outputs the stage wrote or read; null for ingest
 */
public record StageResult(Map<String, Long> counts, StageDetails details, TeacherIdentity teacher) {

  public StageResult {
    counts = Map.copyOf(counts);
  }

  public static StageResult of(Map<String, Long> counts, StageDetails details) {
    return new StageResult(counts, details, null);
  }

  public StageResult withTeacher(TeacherIdentity identity) {
    return new StageResult(counts, details, identity);
  }
}
