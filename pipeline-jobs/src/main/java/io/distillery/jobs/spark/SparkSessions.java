package io.distillery.jobs.spark;

import io.distillery.settings.Settings;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/** The one way the jobs get a SparkSession. spark-submit settings win over distillery.spark.*. */
public final class SparkSessions {
  private SparkSessions() {}

  public static SparkSession create(Settings settings) {
    SparkConf conf = new SparkConf();
    if (!conf.contains("spark.master") && !settings.spark().master().isBlank()) {
      conf.setMaster(settings.spark().master());
    }
    conf.setIfMissing("spark.app.name", settings.spark().appName() + "-" + settings.run().id());
    conf.setIfMissing("spark.sql.shuffle.partitions", Integer.toString(settings.spark().partitions()));
    conf.setIfMissing("spark.ui.showConsoleProgress", "false");
    // Arrays of non-null values (embeddings, sums of hidden states) as Parquet's two-level lists: a repeated
    // primitive, one value after another. The three-level form wraps every float in a group of its own, and
    // writing those groups cost the teacher stage more than its values did. Spark, Hive, Trino and pyarrow read
    // both forms.
    conf.setIfMissing("spark.sql.parquet.writeLegacyFormat", "true");
    conf.setIfMissing("spark.sql.extensions", Tables.EXTENSIONS);
    return SparkSession.builder().config(conf).getOrCreate();
  }
}
