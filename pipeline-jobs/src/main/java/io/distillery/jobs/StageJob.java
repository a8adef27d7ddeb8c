package io.distillery.jobs;

import io.distillery.dataset.Stage;
import io.distillery.dataset.StageManifest;
import io.distillery.settings.Settings;
import java.util.Map;
import org.apache.spark.sql.SparkSession;

/** One pipeline stage as a Spark job. {@link Stages} decides whether it runs or its last output is reused. */
public interface StageJob {
  Stage stage();

  /**
   * Does the stage's work for {@code settings.run()} and reports what it produced.
   *
   * @param upstream the manifests of the stages it reads, keyed by stage
   */
  StageResult run(Settings settings, SparkSession spark, Map<Stage, StageManifest> upstream);
}
