package io.distillery.jobs.generate;

import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.dataset.DatasetRow;
import io.distillery.provenance.TeacherIdentity;
import java.sql.Timestamp;

/**
 * A prompt the teacher did not answer: a row of teacher-failures.
 *
 * @param errorClass what failed: an exception class, or for remote teachers http_STATUS, timeout, connection, ...
 * @param attempts the attempts made (0: not sent)
 * @param httpStatus the HTTP status of the last attempt, null without one
 */
record TeacherFailure(String rowId, String text, String errorClass, String message, long attempts, Long httpStatus) {
  /** Not sent: the task's share of the run's budget was spent. */
  static final String BUDGET_EXHAUSTED = "budget_exhausted";

  static TeacherFailure of(String rowId, String text, Throwable error, long attempts) {
    return new TeacherFailure(rowId, text, error.getClass().getName(), String.valueOf(error.getMessage()), attempts,
        null);
  }

  /** The row, naming the teacher it was sent to. */
  DatasetRow row(TeacherIdentity teacher) {
    return DatasetRow.of(DatasetKind.TEACHER_FAILURES)
        .teacher(teacher)
        .set(Cols.ROW_ID, rowId)
        .set(Cols.TEXT, text)
        .set(Cols.ERROR_CLASS, errorClass)
        .set(Cols.MESSAGE, message)
        .set(Cols.ATTEMPTS, attempts)
        .set(Cols.HTTP_STATUS, httpStatus)
        .set(Cols.CREATED_AT, new Timestamp(System.currentTimeMillis()));
  }
}
