package io.distillery.jobs.pipeline;

import io.distillery.jobs.evaluate.EvaluateJob;
import io.distillery.jobs.generate.GenerateJob;
import io.distillery.jobs.ingest.IngestJob;
import io.distillery.jobs.stage.StageContext;
import io.distillery.jobs.stage.StageJob;
import io.distillery.jobs.stage.Stages;
import io.distillery.jobs.stage.TermsCheck;
import io.distillery.jobs.task.DistillationTask;
import io.distillery.jobs.train.TrainJob;
import io.distillery.jobs.transparency.Transparency;
import io.distillery.run.Stage;
import io.distillery.run.StageManifest;
import io.distillery.settings.Settings;
import io.distillery.settings.StudentKind;
import io.distillery.teacher.Teachers;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * teacher → dataset → student → evaluation: runs the named stages in order, reusing finished ones, then writes the
 * run's transparency report. The stage jobs are generic; the run's task (from the {@link TaskRegistry}) hands each its
 * part.
 */
public final class Pipeline {
  private static final Logger LOG = LoggerFactory.getLogger(Pipeline.class);

  private Pipeline() {}

  /** The job of one stage for this task. */
  public static StageJob job(Stage stage, DistillationTask task) {
    return switch (stage) {
      case INGEST -> new IngestJob();
      case GENERATE -> new GenerateJob(task.generation());
      case TRAIN -> new TrainJob(task.generation().output(), task.student().orElseThrow(() -> noStudent(task)));
      case EVALUATE -> new EvaluateJob(task.generation().output(), task.student().orElseThrow(() -> noStudent(task)),
          task.evaluation().orElseThrow(() -> noStudent(task)));
    };
  }

  private static IllegalArgumentException noStudent(DistillationTask task) {
    return new IllegalArgumentException("task " + task.kind() + " has no student yet: its run is ingest and generate");
  }

  /**
   * The stages to run: without a student ({@code student.kind = none}) a run is ingest and generate, and train or
   * evaluate alone is an error that says so.
   */
  static List<Stage> stages(Settings settings, List<Stage> asked) {
    if (settings.student().kind() != StudentKind.NONE) {
      return asked;
    }
    List<Stage> kept = asked.stream().filter(s -> s == Stage.INGEST || s == Stage.GENERATE).toList();
    if (kept.isEmpty()) {
      throw new IllegalArgumentException(Settings.Student.KIND.is(StudentKind.NONE) + ": this run trains no student "
          + "(its product is the generate stage's dataset); there is nothing to " + asked.get(0).label() + ".");
    }
    return kept;
  }

  /**
   * Runs {@code stages} (in pipeline order) for the run in {@code settings}.
   *
   * @param force run the stages even if this run already finished them with the same inputs
   */
  public static Map<Stage, StageManifest> run(Settings settings, SparkSession spark, List<Stage> stages,
      boolean force) {
    stages = stages(settings, stages);
    stages.stream().filter(s -> s != Stage.INGEST).findFirst().ifPresent(first ->
        TermsCheck.configured(settings, first.label())); // refused before any work is done, not after ingest
    if (stages.contains(Stage.GENERATE) && !settings.teacher().remote()) {
      Teachers.checkDevice(settings.teacher());
    }
    DistillationTask task = TaskRegistry.of(settings.task());
    StageContext ctx = StageContext.of(settings, spark);
    Map<Stage, StageManifest> done = new EnumMap<>(Stage.class);
    boolean ran = false;
    for (Stage stage : Stage.values()) {
      if (stages.contains(stage)) {
        Optional<StageManifest> before = Stages.finished(ctx, stage);
        StageManifest after = Stages.runOrReuse(job(stage, task), ctx, force);
        ran |= before.map(b -> !b.equals(after)).orElse(true);
        done.put(stage, after);
      }
    }
    if (Stages.finished(ctx, Stage.GENERATE).isPresent()) {
      if (ran || !ctx.exists(ctx.layout().transparency())) {
        Transparency.write(ctx);
      } else { // every file would be hashed again for the same report
        LOG.info("Transparency report of run '{}' is current (every stage reused): {}", ctx.layout().runId(),
            ctx.layout().transparencyPage());
      }
    }
    return done;
  }

  public static Map<Stage, StageManifest> runAll(Settings settings, SparkSession spark) {
    return run(settings, spark, List.of(Stage.values()), false);
  }
}
