package io.distillery.jobs.stage;

import io.distillery.dataset.DatasetKind;
import io.distillery.jobs.spark.Datasets;
import io.distillery.jobs.spark.HadoopFiles;
import io.distillery.run.RunLayout;
import io.distillery.settings.Settings;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * What a stage works with: the run's settings, the Spark session and the run's layout, with its datasets and files
 * one call away.
 */
public record StageContext(Settings settings, SparkSession spark, RunLayout layout) {

  public static StageContext of(Settings settings, SparkSession spark) {
    return new StageContext(settings, spark, RunLayout.of(settings.run()));
  }

  /** This run's rows of a dataset; fails clearly if the stage that writes it has not run. */
  public Dataset<Row> read(DatasetKind kind) {
    return Datasets.read(spark, kind, layout);
  }

  /** Replaces this run's partition of a dataset with {@code rows}. */
  public void write(Dataset<Row> rows, DatasetKind kind) {
    Datasets.write(rows, kind, layout);
  }

  public boolean exists(String path) {
    return HadoopFiles.exists(spark, path);
  }

  public byte[] readFile(String path) {
    return HadoopFiles.read(spark, path);
  }

  /** Writes a small file (a model, a manifest, a report) atomically: readers never see half of it. */
  public void writeFile(String path, byte[] bytes) {
    HadoopFiles.write(spark, path, bytes);
  }

  /** The same run with other settings (e.g. an ablation's). */
  public StageContext with(Settings other) {
    return new StageContext(other, spark, layout);
  }
}
