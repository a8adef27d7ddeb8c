package io.distillery.jobs.spark;

import java.util.Arrays;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.StructType;

/**
 * A stage's scratch rows (e.g. generate's attempts) as plain Parquet, written once and read back once before the
 * stage commits its tables; deleted when the stage is done.
 */
public final class Staging {
  /**
   * Parquet dictionary encoding tries to build a dictionary of every float in a vector column, which never pays
   * (hundreds of distinct floats a row) and slows the teacher stage's writer (bench/README.md). Off for rows with
   * vector columns; snappy still compresses the rest.
   */
  private static final String DICTIONARY = "parquet.enable.dictionary";

  private Staging() {}

  /** Writes {@code rows} to {@code path}, replacing it. */
  public static void write(Dataset<Row> rows, String path) {
    rows.write().option(DICTIONARY, !hasVectors(rows.schema())).mode(SaveMode.Overwrite).parquet(path);
  }

  private static boolean hasVectors(StructType schema) {
    return Arrays.stream(schema.fields()).anyMatch(f -> f.dataType() instanceof ArrayType);
  }
}
