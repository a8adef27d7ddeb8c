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
  /**
   * Column of a task's by-product rows ({@link DistillationTask#byproductSchema}): a partial result the teacher
   * function emits from the same pass over the prompts, null on answer and failure rows.
   */
  public static final String BYPRODUCT = "byproduct";

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
    fields.add(DataTypes.createStructField(Cols.HTTP_STATUS, DataTypes.LongType, true));
    return DataTypes.createStructType(fields);
  }

  /** {@link #schema(DatasetKind)} plus the {@link #BYPRODUCT} column of type {@code byproduct}, when there is one. */
  public static StructType schema(DatasetKind output, java.util.Optional<StructType> byproduct) {
    StructType attempts = schema(output);
    return byproduct.map(b -> attempts.add(BYPRODUCT, b, true)).orElse(attempts);
  }

  /** An answer or failure row in a schema with the {@link #BYPRODUCT} column: the row, with that column null. */
  public static Row withoutByproduct(Row attempt) {
    Object[] values = new Object[attempt.size() + 1];
    for (int i = 0; i < attempt.size(); i++) {
      values[i] = attempt.get(i);
    }
    return RowFactory.create(values);
  }

  /**
   * A by-product row: {@code partial} in the {@link #BYPRODUCT} column, not answered, no attempts, nulls elsewhere.
   * Generate counts it neither as written nor as failed.
   */
  public static Row byproduct(DatasetKind output, Row partial) {
    List<Object> values = new ArrayList<>();
    values.add(false);
    for (int i = 0; i < output.columnNames().size(); i++) {
      values.add(null);
    }
    values.add(null);
    values.add(null);
    values.add(0L);
    values.add(null);
    values.add(partial);
    return RowFactory.create(values.toArray());
  }

  /** Hash identifying a request: teacher identity, parameters and input. */
  public static String requestHash(TeacherIdentity teacher, String parameters, String input) {
    return Hashing.sha256Hex(teacher.name() + '\u0000' + teacher.modelSha256() + '\u0000' + parameters
        + '\u0000' + input).substring(0, 32);
  }

  /**
   * Where an answer came from, recorded on its row: the teacher, the request, how long it took, what the server
   * said about it (remote teachers) and whether it was read from the response cache.
   *
   * @param servedModel the model that answered as the server reported it (in-process: the teacher's name)
   * @param systemFingerprint the server's system_fingerprint, null if none
   * @param promptTokens input tokens the server counted, null for in-process teachers
   * @param completionTokens output tokens the server counted, null for in-process teachers
   * @param createdAtMillis when the teacher answered (for a cached answer: when it first did)
   */
  public record Provenance(TeacherIdentity teacher, String requestHash, double latencyMs, String servedModel,
      String systemFingerprint, Long promptTokens, Long completionTokens, boolean fromCache, long createdAtMillis) {

    /** An in-process teacher's answer, now. */
    public static Provenance inProcess(TeacherIdentity teacher, String requestHash, double latencyMs) {
      return new Provenance(teacher, requestHash, latencyMs, teacher.name(), null, null, null, false,
          System.currentTimeMillis());
    }
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
      return answered(output, payload, Provenance.inProcess(teacher, requestHash(teacher, parameters, text),
          (System.nanoTime() - start) / 1e6), 1);
    } catch (RuntimeException e) {
      return failed(output, rowId, text, e.getClass().getName(), String.valueOf(e.getMessage()), 1, null);
    }
  }

  /** An answered row: {@code payload} holds the task's columns by name; provenance is added here. */
  public static Row answered(DatasetKind output, Map<String, Object> payload, Provenance provenance, long attempts) {
    List<Object> values = new ArrayList<>();
    values.add(true);
    values.addAll(withProvenance(output, payload, provenance));
    values.add(null);
    values.add(null);
    values.add(attempts);
    values.add(null);
    return RowFactory.create(values.toArray());
  }

  /** A row of {@code output} itself: the task's columns by name, with provenance, in the dataset's order. */
  public static Row outputRow(DatasetKind output, Map<String, Object> payload, Provenance provenance) {
    return RowFactory.create(withProvenance(output, payload, provenance).toArray());
  }

  private static List<Object> withProvenance(DatasetKind output, Map<String, Object> payload, Provenance p) {
    Map<String, Object> byName = new HashMap<>(payload);
    TeacherIdentity teacher = p.teacher();
    byName.put(Cols.TEACHER_NAME, teacher.name());
    byName.put(Cols.TEACHER_VERSION, teacher.version());
    byName.put(Cols.TEACHER_ARTIFACT, teacher.artifact());
    byName.put(Cols.TEACHER_SHA256, teacher.modelSha256());
    byName.put(Cols.TERMS, teacher.termsId());
    byName.put(Cols.REQUEST_HASH, p.requestHash());
    byName.put(Cols.LATENCY_MS, p.latencyMs());
    byName.put(Cols.CREATED_AT, new Timestamp(p.createdAtMillis()));
    byName.put(Cols.SERVED_MODEL, p.servedModel());
    byName.put(Cols.SYSTEM_FINGERPRINT, p.systemFingerprint());
    byName.put(Cols.PROMPT_TOKENS, p.promptTokens());
    byName.put(Cols.COMPLETION_TOKENS, p.completionTokens());
    byName.put(Cols.FROM_CACHE, p.fromCache());
    List<Object> values = new ArrayList<>();
    for (String name : output.columnNames()) {
      if (!byName.containsKey(name)) {
        throw new IllegalStateException("task did not fill column " + name + " of " + output);
      }
      values.add(byName.get(name));
    }
    return values;
  }

  /**
   * A failed row: the prompt's identity columns, nulls for the rest, and the error ({@code httpStatus} null when
   * there was no HTTP response).
   */
  public static Row failed(DatasetKind output, String rowId, String text, String errorClass, String message,
      long attempts, Long httpStatus) {
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
    values.add(errorClass);
    values.add(message);
    values.add(attempts);
    values.add(httpStatus);
    return RowFactory.create(values.toArray());
  }
}
