package io.distillery.jobs;

import io.distillery.dataset.Stage;
import io.distillery.dataset.StageManifest;
import io.distillery.jobs.evaluate.EvaluateJob;
import io.distillery.jobs.generate.GenerateJob;
import io.distillery.jobs.ingest.IngestJob;
import io.distillery.jobs.train.TrainJob;
import io.distillery.settings.Settings;
import io.distillery.teacher.TeacherIdentity;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;

/** teacher → dataset → student → evaluation: runs the named stages in order, reusing finished ones. */
public final class Pipeline {
  private Pipeline() {}

  public static StageJob job(Stage stage) {
    return switch (stage) {
      case INGEST -> new IngestJob();
      case GENERATE -> new GenerateJob();
      case TRAIN -> new TrainJob();
      case EVALUATE -> new EvaluateJob();
    };
  }

  /**
   * Runs {@code stages} (in pipeline order) for the run in {@code settings}.
   *
   * @param force run the stages even if this run already finished them with the same inputs
   */
  public static Map<Stage, StageManifest> run(Settings settings, SparkSession spark, List<Stage> stages,
      boolean force) {
    if (stages.contains(Stage.GENERATE) || stages.contains(Stage.TRAIN)) {
      // Refuse before any work is done, not after ingest.
      TeacherIdentity.requireDistillationAllowed(settings.teacher(), stages.contains(Stage.GENERATE)
          ? "generate" : "train");
    }
    Map<Stage, StageManifest> done = new EnumMap<>(Stage.class);
    for (Stage stage : Stage.values()) {
      if (stages.contains(stage)) {
        done.put(stage, Stages.runOrReuse(job(stage), settings, spark, force));
      }
    }
    return done;
  }

  public static Map<Stage, StageManifest> runAll(Settings settings, SparkSession spark) {
    return run(settings, spark, List.of(Stage.values()), false);
  }
}
