package io.distillery.jobs;

import io.distillery.teacher.TeacherIdentity;
import java.util.Map;

/** What a stage reports: its row accounting, stage-specific details, and the teacher it used, if any. */
public record StageResult(Map<String, Long> counts, Map<String, Object> details, TeacherIdentity teacher) {

  public static StageResult of(Map<String, Long> counts, Map<String, Object> details) {
    return new StageResult(Map.copyOf(counts), Map.copyOf(details), null);
  }

  public StageResult withTeacher(TeacherIdentity identity) {
    return new StageResult(counts, details, identity);
  }
}
