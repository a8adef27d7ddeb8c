package io.distillery.jobs.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.distillery.dataset.DatasetKind;
import io.distillery.run.RunLayout;
import java.util.Arrays;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** Reads and writes one run's partition of a Distillery dataset, always with its declared schema. */
public final class Datasets {
  /**
   * Parquet dictionary encoding tries to build a dictionary of every float in a vector column, which never pays
   * (hundreds of distinct floats a row) and slows the teacher stage's writer (bench/README.md). Off for datasets
   * with vector columns; snappy still compresses the rest.
   */
  private static final String DICTIONARY = "parquet.enable.dictionary";

  private Datasets() {}

  /**
   * Writes {@code rows} (columns as declared for {@code kind}) as this run's partition, replacing it. An empty
   * result still leaves an (empty) partition, so readers can tell "ran, nothing" from "never ran".
   */
  public static void write(Dataset<Row> rows, DatasetKind kind, RunLayout layout) {
    SparkSession spark = rows.sparkSession();
    HadoopFiles.delete(spark, layout.partition(kind));
    rows.select(kind.columnNames().stream().map(functions::col).toArray(Column[]::new))
        .withColumn(DatasetKind.RUN_ID, lit(layout.runId()))
        .write()
        .option(DICTIONARY, !hasVectors(SparkSchemas.of(kind)))
        .mode(SaveMode.Append)
        .partitionBy(DatasetKind.RUN_ID)
        .parquet(layout.dataset(kind));
    HadoopFiles.mkdirs(spark, layout.partition(kind));
  }

  /**
   * Writes intermediate rows (e.g. the generate stage's attempts) to {@code path}, replacing it, with the
   * same Parquet settings as the datasets.
   */
  public static void stage(Dataset<Row> rows, String path) {
    rows.write().option(DICTIONARY, !hasVectors(rows.schema())).mode(SaveMode.Overwrite).parquet(path);
  }

  private static boolean hasVectors(StructType schema) {
    return Arrays.stream(schema.fields()).anyMatch(f -> f.dataType() instanceof ArrayType);
  }

  /** This run's rows of {@code kind}, without the run_id column. Fails clearly if the stage has not run. */
  public static Dataset<Row> read(SparkSession spark, DatasetKind kind, RunLayout layout) {
    if (!HadoopFiles.exists(spark, layout.partition(kind))) {
      throw new IllegalStateException("Run '" + layout.runId() + "' has no " + kind.directory()
          + " dataset at " + layout.partition(kind) + "; run the stage that writes it first.");
    }
    return spark.read()
        .schema(SparkSchemas.of(kind).add(DatasetKind.RUN_ID, DataTypes.StringType))
        .parquet(layout.dataset(kind))
        .where(col(DatasetKind.RUN_ID).equalTo(layout.runId()))
        .drop(DatasetKind.RUN_ID);
  }
}
