package io.distillery.jobs.task;

import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.jobs.SparkSchemas;
import io.distillery.teacher.TeacherIdentity;
import io.distillery.util.Hashing;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Rows the generate stage's executor functions emit: the output dataset's columns (nullable, filled when the
 * teacher answered) plus the failure columns (filled when it did not) and an {@code answered} flag.
 */
public final class TeacherAttempts {
  public static final String ANSWERED = "answered";

  private TeacherAttempts() {}

  public static StructType schema(DatasetKind output) {
    List<StructField> fields = new ArrayList<>();
    fields.add(DataTypes.createStructField(ANSWERED, DataTypes.BooleanType, false));
    for (StructField f : SparkSchemas.of(output).fields()) {
      fields.add(DataTypes.createStructField(f.name(), f.dataType(), true));
    }
    fields.add(DataTypes.createStructField(Cols.ERROR_CLASS, DataTypes.StringType, true));
    fields.add(DataTypes.createStructField(Cols.MESSAGE, DataTypes.StringType, true));
    fields.add(DataTypes.createStructField(Cols.ATTEMPTS, DataTypes.LongType, false));
    return DataTypes.createStructType(fields);
  }

  /** Hash identifying a request: teacher identity, parameters and input. */
  public static String requestHash(TeacherIdentity teacher, String parameters, String input) {
    return Hashing.sha256Hex(teacher.name() + '\u0000' + teacher.modelSha256() + '\u0000' + parameters
        + '\u0000' + input).substring(0, 32);
  }

  /**
   * Asks the teacher about one prompt row (schema of {@link DatasetKind#PROMPTS}), once: {@code answer} returns
   * the task's own columns by name; the prompt's row id, text and split, the provenance, the latency and the
   * attempt count are added here. A teacher error becomes a failed row, never a lost one.
   */
  public static Row ask(DatasetKind output, Row prompt, TeacherIdentity teacher, String parameters,
      java.util.function.Function<Row, Map<String, Object>> answer) {
    String rowId = prompt.getAs(Cols.ROW_ID);
    String text = prompt.getAs(Cols.TEXT);
    long start = System.nanoTime();
    try {
      Map<String, Object> payload = new HashMap<>(answer.apply(prompt));
      payload.put(Cols.ROW_ID, rowId);
      payload.put(Cols.TEXT, text);
      payload.put(Cols.SPLIT, prompt.getAs(Cols.SPLIT));
      return answered(output, payload, teacher, requestHash(teacher, parameters, text),
          (System.nanoTime() - start) / 1e6, 1);
    } catch (RuntimeException e) {
      return failed(output, rowId, text, e, 1);
    }
  }

  /** An answered row: {@code payload} holds the task's columns by name; provenance is added here. */
  public static Row answered(DatasetKind output, Map<String, Object> payload, TeacherIdentity teacher,
      String requestHash, double latencyMs, long attempts) {
    List<Object> values = new ArrayList<>();
    values.add(true);
    values.addAll(withProvenance(output, payload, teacher, requestHash, latencyMs));
    values.add(null);
    values.add(null);
    values.add(attempts);
    return RowFactory.create(values.toArray());
  }

  /** A row of {@code output} itself: the task's columns by name, with provenance, in the dataset's order. */
  public static Row outputRow(DatasetKind output, Map<String, Object> payload, TeacherIdentity teacher,
      String requestHash, double latencyMs) {
    return RowFactory.create(withProvenance(output, payload, teacher, requestHash, latencyMs).toArray());
  }

  private static List<Object> withProvenance(DatasetKind output, Map<String, Object> payload,
      TeacherIdentity teacher, String requestHash, double latencyMs) {
    Map<String, Object> byName = new HashMap<>(payload);
    byName.put(Cols.TEACHER_NAME, teacher.name());
    byName.put(Cols.TEACHER_VERSION, teacher.version());
    byName.put(Cols.TEACHER_ARTIFACT, teacher.artifact());
    byName.put(Cols.TEACHER_SHA256, teacher.modelSha256());
    byName.put(Cols.TERMS, teacher.termsId());
    byName.put(Cols.REQUEST_HASH, requestHash);
    byName.put(Cols.LATENCY_MS, latencyMs);
    byName.put(Cols.CREATED_AT, new Timestamp(System.currentTimeMillis()));
    List<Object> values = new ArrayList<>();
    for (String name : output.columnNames()) {
      if (!byName.containsKey(name)) {
        throw new IllegalStateException("task did not fill column " + name + " of " + output);
      }
      values.add(byName.get(name));
    }
    return values;
  }

  /** A failed row: the prompt's identity columns, nulls for the rest, and the error. */
  public static Row failed(DatasetKind output, String rowId, String text, Throwable error, long attempts) {
    List<Object> values = new ArrayList<>();
    values.add(false);
    for (String name : output.columnNames()) {
      values.add(switch (name) {
        case Cols.ROW_ID -> rowId;
        case Cols.TEXT -> text;
        case Cols.CREATED_AT -> new Timestamp(System.currentTimeMillis());
        default -> null;
      });
    }
    values.add(error.getClass().getName());
    values.add(String.valueOf(error.getMessage()));
    values.add(attempts);
    return RowFactory.create(values.toArray());
  }
}
