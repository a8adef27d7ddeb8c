package io.distillery.jobs.generate;

import io.distillery.settings.Settings;
import java.util.Map;
import java.util.TreeMap;

/**
 * Generate's row accounting: every prompt is written (answered), quarantined (answered, but the task's quality gate
 * kept it out) or failed, none lost; failures not sent because the budget was spent do not count against
 * {@code generate.max-failure-fraction}.
 *
 * @param notSent failed rows that were never sent (budget spent)
 */
record GenerateAccounting(long rowsIn, long written, long failed, long notSent, long quarantined) {

  /** The teacher's own failures: failed rows that were sent. */
  long teacherFailed() {
    return failed - notSent;
  }

  double failedFraction() {
    return rowsIn == 0 ? 0 : teacherFailed() / (double) rowsIn;
  }

  /** Throws unless rows in = written + failed + quarantined. */
  void checkNothingLost() {
    if (rowsIn != written + failed + quarantined || notSent > failed || notSent < 0) {
      throw new IllegalStateException("Generate accounting does not add up: " + counts());
    }
  }

  /** Whether the teacher failed on more of the prompts than the settings allow. */
  boolean tooManyFailures(double maxFailureFraction) {
    return failedFraction() > maxFailureFraction;
  }

  /** The message of a stage stopped by {@link #tooManyFailures}, with the failures by error class. */
  String tooManyFailuresMessage(double maxFailureFraction, Map<String, Long> byErrorClass, String failuresAt) {
    return String.format("The teacher failed on %d of %d prompts (%.2f%%), above %s = %s (by error: %s). The "
        + "failures, with their errors, are in %s.", teacherFailed(), rowsIn, 100 * failedFraction(),
        Settings.Generate.MAX_FAILURE_FRACTION.full(), maxFailureFraction, byErrorClass, failuresAt);
  }

  Map<String, Long> counts() {
    return new TreeMap<>(Map.of("rows_in", rowsIn, "written", written, "failed", failed, "quarantined",
        quarantined));
  }
}
