package io.distillery.jobs.spark;

import static org.apache.spark.sql.functions.col;

import io.distillery.dataset.DatasetKind;
import io.distillery.run.RunLayout;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;

/**
 * The Parquet directories the datasets were before they became tables (ROOT/datasets/KIND/run_id=RUN): read to
 * import such a run ({@code distillery tables import}), never written.
 */
public final class LegacyDatasets {
  private LegacyDatasets() {}

  /** Whether the run has a Parquet partition of this dataset. */
  public static boolean exists(SparkSession spark, DatasetKind kind, RunLayout layout) {
    return HadoopFiles.exists(spark, layout.partition(kind));
  }

  /** This run's rows of {@code kind} from its Parquet directory, without the run_id column. */
  public static Dataset<Row> read(SparkSession spark, DatasetKind kind, RunLayout layout) {
    return spark.read()
        .schema(SparkSchemas.of(kind).add(DatasetKind.RUN_ID, DataTypes.StringType))
        .parquet(layout.dataset(kind))
        .where(col(DatasetKind.RUN_ID).equalTo(layout.runId()))
        .drop(DatasetKind.RUN_ID);
  }
}
