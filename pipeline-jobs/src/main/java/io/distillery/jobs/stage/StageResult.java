package io.distillery.jobs.stage;

import io.distillery.provenance.TeacherIdentity;
import io.distillery.run.StageDetails;
import io.distillery.settings.SignOff;
import java.util.Map;
import java.util.Optional;

/**
 * What a stage reports: its row accounting, its typed details, the teacher it used, if any, and the sign-off it ran
 * under, if the teacher's terms needed one.
 *
 * @param teacher the teacher whose outputs the stage wrote or read; null for ingest
 * @param signOff null when the terms allowed the run (or the stage reads no teacher outputs)
 */
public record StageResult(Map<String, Long> counts, StageDetails details, TeacherIdentity teacher, SignOff signOff) {

  public StageResult {
    counts = Map.copyOf(counts);
  }

  public static StageResult of(Map<String, Long> counts, StageDetails details) {
    return new StageResult(counts, details, null, null);
  }

  public StageResult withTeacher(TeacherIdentity identity) {
    return new StageResult(counts, details, identity, signOff);
  }

  public StageResult withSignOff(Optional<SignOff> used) {
    return new StageResult(counts, details, teacher, used.orElse(null));
  }
}
