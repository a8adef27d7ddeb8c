package io.distillery.jobs.spark;

import io.distillery.dataset.DatasetRow;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Spark rows from typed values by column name, never by position. The rows carry their schema, so the next executor
 * function reads them by name too (Spark hands a fused stage's rows on as they were made).
 */
public final class SparkRows {
  private SparkRows() {}

  /** A dataset row (checked against its {@code DatasetKind}) as a Spark row of that dataset's schema. */
  public static Row of(DatasetRow row) {
    return new GenericRowWithSchema(row.values(), SparkSchemas.of(row.kind()));
  }

  /**
   * A row of {@code schema} from values by name; a name the schema lacks, or a non-nullable field left unset, is an
   * error naming it.
   */
  public static Row of(StructType schema, Map<String, ?> byName) {
    for (String name : byName.keySet()) {
      if (schema.getFieldIndex(name).isEmpty()) {
        throw new IllegalArgumentException("no field " + name + " in " + schema.simpleString());
      }
    }
    StructField[] fields = schema.fields();
    Object[] values = new Object[fields.length];
    for (int i = 0; i < fields.length; i++) {
      Object v = byName.get(fields[i].name());
      if (v == null && !fields[i].nullable()) {
        throw new IllegalStateException("field " + fields[i].name() + " is required and was not set");
      }
      values[i] = v;
    }
    return new GenericRowWithSchema(values, schema);
  }
}
