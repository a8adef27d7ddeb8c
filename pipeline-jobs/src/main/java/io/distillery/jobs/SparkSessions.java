package io.distillery.jobs;

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
    return SparkSession.builder().config(conf).getOrCreate();
  }
}
