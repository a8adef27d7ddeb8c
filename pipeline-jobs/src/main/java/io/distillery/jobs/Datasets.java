package io.distillery.jobs;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.RunLayout;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;

/** Reads and writes one run's partition of a Distillery dataset, always with its declared schema. */
public final class Datasets {
  private Datasets() {}

  /**
   * Writes {@code rows} (columns as declared for {@code kind}) as this run's partition, replacing it. An empty
   * result still leaves an (empty) partition, so readers can tell "ran, nothing" from "never ran".
   */
  public static void write(Dataset<Row> rows, DatasetKind kind, RunLayout layout) {
    SparkSession spark = rows.sparkSession();
    HadoopFiles.delete(spark, layout.partition(kind));
    rows.select(kind.columnNames().stream().map(org.apache.spark.sql.functions::col).toArray(
            org.apache.spark.sql.Column[]::new))
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

  /**
   * Parquet dictionary encoding tries to build a dictionary of every float in a vector column, which never pays
   * (hundreds of distinct floats a row) and measurably slowed the teacher fan-out (bench/run.sh: fan-out ratio
   * 0.71 with it, 0.82 without). Off for datasets with vector columns; snappy still compresses the rest.
   */
  private static final String DICTIONARY = "parquet.enable.dictionary";

  private static boolean hasVectors(org.apache.spark.sql.types.StructType schema) {
    return java.util.Arrays.stream(schema.fields())
        .anyMatch(f -> f.dataType() instanceof org.apache.spark.sql.types.ArrayType);
  }

  /** This run's rows of {@code kind}, without the run_id column. Fails clearly if the stage has not run. */
  public static Dataset<Row> read(SparkSession spark, DatasetKind kind, RunLayout layout) {
    if (!HadoopFiles.exists(spark, layout.partition(kind))) {
      throw new IllegalStateException("Run '" + layout.runId() + "' has no " + kind.directory()
          + " dataset at " + layout.partition(kind) + "; run the stage that writes it first.");
    }
    return spark.read()
        .schema(SparkSchemas.of(kind).add(DatasetKind.RUN_ID, org.apache.spark.sql.types.DataTypes.StringType))
        .parquet(layout.dataset(kind))
        .where(col(DatasetKind.RUN_ID).equalTo(layout.runId()))
        .drop(DatasetKind.RUN_ID);
  }
}
