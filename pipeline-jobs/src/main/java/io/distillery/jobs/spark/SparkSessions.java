package io.distillery.jobs.spark;

import io.distillery.settings.Settings;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/** The one way the jobs get a SparkSession. spark-submit settings win over distillery.spark.*. */
public final class SparkSessions {
  /** Spark's list of plugin classes; {@link GpuPlugin} is added to the user's. */
  public static final String PLUGINS = "spark.plugins";

  private SparkSessions() {}

  /** {@code plugins} (a comma-separated list of classes, may be empty) with {@link GpuPlugin} in it. */
  public static String withGpuPlugin(String plugins) {
    String gpu = GpuPlugin.class.getName();
    List<String> all = new ArrayList<>(Arrays.stream(plugins.split(",")).map(String::trim)
        .filter(p -> !p.isEmpty()).toList());
    if (!all.contains(gpu)) {
      all.add(gpu);
    }
    return String.join(",", all);
  }

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
    conf.set(PLUGINS, withGpuPlugin(conf.get(PLUGINS, "")));
    return SparkSession.builder().config(conf).getOrCreate();
  }
}
