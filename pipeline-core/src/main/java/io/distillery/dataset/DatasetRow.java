package io.distillery.dataset;

import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.provenance.Provenance;
import io.distillery.provenance.TeacherIdentity;
import java.sql.Timestamp;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;

/**
 * One row of a dataset, built by column name against the schema {@link DatasetKind} declares: a column it does not
 * declare, or a value of the wrong type, fails at once; {@link #values} puts them in the dataset's order and fails
 * naming any required column left unset. Nothing builds a dataset row by position.
 */
public final class DatasetRow {
  private final DatasetKind kind;
  private final Map<String, Object> values = new HashMap<>();

  private DatasetRow(DatasetKind kind) {
    this.kind = kind;
  }

  public static DatasetRow of(DatasetKind kind) {
    return new DatasetRow(kind);
  }

  public DatasetKind kind() {
    return kind;
  }

  /** Sets a column; null leaves it null (allowed for nullable columns only, checked by {@link #values}). */
  public DatasetRow set(String column, Object value) {
    Column c = kind.column(column).orElseThrow(() -> new IllegalArgumentException(
        kind + " has no column " + column + " (its columns: " + kind.columnNames() + ")"));
    if (value != null && !c.type().accepts(value)) {
      throw new IllegalArgumentException("column " + column + " of " + kind + " is " + c.type() + ", not a "
          + value.getClass().getSimpleName());
    }
    values.put(column, value);
    return this;
  }

  /** Sets every column of {@code byName} that this dataset declares; the others are not its business. */
  public DatasetRow setDeclared(Map<String, ?> byName) {
    byName.forEach((name, value) -> {
      if (kind.column(name).isPresent()) {
        set(name, value);
      }
    });
    return this;
  }

  /** The columns naming the teacher and its terms. */
  public DatasetRow teacher(TeacherIdentity teacher) {
    return set(Cols.TEACHER_NAME, teacher.name())
        .set(Cols.TEACHER_VERSION, teacher.version())
        .set(Cols.TEACHER_ARTIFACT, teacher.artifact())
        .set(Cols.TEACHER_SHA256, teacher.modelSha256())
        .set(Cols.TERMS, teacher.termsId());
  }

  /** The teacher's columns and those of the request that was answered. */
  public DatasetRow provenance(Provenance p) {
    return teacher(p.teacher())
        .set(Cols.REQUEST_HASH, p.requestHash())
        .set(Cols.LATENCY_MS, p.latencyMs())
        .set(Cols.CREATED_AT, new Timestamp(p.createdAtMillis()))
        .set(Cols.SERVED_MODEL, p.servedModel())
        .set(Cols.SYSTEM_FINGERPRINT, p.systemFingerprint())
        .set(Cols.PROMPT_TOKENS, p.promptTokens())
        .set(Cols.COMPLETION_TOKENS, p.completionTokens())
        .set(Cols.FROM_CACHE, p.fromCache());
  }

  /** A column's value as set (null if unset). */
  public Object get(String column) {
    return values.get(column);
  }

  /** The values by column name, every required column checked to be set. */
  public Map<String, Object> checked() {
    for (Column c : kind.columns()) {
      if (!c.nullable() && values.get(c.name()) == null) {
        throw new IllegalStateException("column " + c.name() + " of " + kind + " is required and was not set");
      }
    }
    return Collections.unmodifiableMap(values);
  }

  /** The values in the dataset's column order. */
  public Object[] values() {
    Object[] out = new Object[kind.columns().size()];
    int i = 0;
    for (Column c : kind.columns()) {
      Object v = values.get(c.name());
      if (v == null && !c.nullable()) {
        throw new IllegalStateException("column " + c.name() + " of " + kind + " is required and was not set");
      }
      out[i++] = v;
    }
    return out;
  }
}
