package io.distillery.jobs.generate;

import io.distillery.dataset.Column;
import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.dataset.DatasetRow;
import io.distillery.jobs.spark.SparkRows;
import io.distillery.jobs.spark.SparkSchemas;
import io.distillery.jobs.task.Prompt;
import io.distillery.provenance.Provenance;
import io.distillery.provenance.TeacherIdentity;
import java.io.Serializable;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;

/**
 * The generate stage's row format: what its executor functions emit and it stages once, then splits. One row per
 * prompt, answered (the output dataset's columns filled) or failed (teacher-failures' columns filled), told apart by
 * {@link #ANSWERED}; then the task's by-product rows, if it has any, in the {@link #BYPRODUCT} column. Every column is
 * filled by name from typed values (a {@link DatasetRow} of the dataset it goes to).
 */
final class AttemptRows implements Serializable {
  static final String ANSWERED = "answered";
  /** A task's partial result from the same pass over the prompts; null on answer and failure rows. */
  static final String BYPRODUCT = "byproduct";

  private final DatasetKind output;
  private final StructType schema;
  private final StructType byproduct; // null: none
  private final LongAccumulator progress; // null: not counted

  AttemptRows(DatasetKind output, Optional<StructType> byproduct) {
    this(output, byproduct, null);
  }

  private AttemptRows(DatasetKind output, Optional<StructType> byproduct, LongAccumulator progress) {
    this.output = output;
    this.progress = progress;
    this.byproduct = byproduct.orElse(null);
    StructType s = new StructType().add(ANSWERED, DataTypes.BooleanType, false);
    for (DatasetKind kind : new DatasetKind[] {output, DatasetKind.TEACHER_FAILURES}) {
      StructType declared = SparkSchemas.of(kind);
      for (Column c : kind.columns()) {
        if (s.getFieldIndex(c.name()).isEmpty()) {
          s = s.add(c.name(), declared.apply(c.name()).dataType(), true);
        }
      }
    }
    this.schema = this.byproduct == null ? s : s.add(BYPRODUCT, this.byproduct, true);
  }

  StructType schema() {
    return schema;
  }

  /** The same rows, each answered or failed prompt added to {@code counter} as it is made (progress lines). */
  AttemptRows counting(LongAccumulator counter) {
    return new AttemptRows(output, Optional.ofNullable(byproduct), counter);
  }

  private void counted() {
    if (progress != null) {
      progress.add(1);
    }
  }

  DatasetKind output() {
    return output;
  }

  /** An answered prompt: its own columns the output declares, the task's columns of the answer, the provenance. */
  Row answered(Prompt prompt, Map<String, Object> taskColumns, Provenance provenance, long attempts) {
    counted();
    DatasetRow row = DatasetRow.of(output).setDeclared(prompt.columns());
    taskColumns.forEach(row::set);
    Map<String, Object> values = new HashMap<>(row.provenance(provenance).checked());
    values.put(ANSWERED, true);
    values.put(Cols.ATTEMPTS, attempts);
    return SparkRows.of(schema, values);
  }

  /** A prompt {@code teacher} did not answer. */
  Row failed(TeacherFailure failure, TeacherIdentity teacher) {
    counted();
    Map<String, Object> values = new HashMap<>(failure.row(teacher).checked());
    values.put(ANSWERED, false);
    return SparkRows.of(schema, values);
  }

  /** A by-product row: counted neither as written nor as failed. */
  Row byproduct(Map<String, Object> partial) {
    return SparkRows.of(schema, Map.of(ANSWERED, false, BYPRODUCT, SparkRows.of(byproduct, partial)));
  }

  boolean hasByproduct() {
    return byproduct != null;
  }
}
