package io.distillery.jobs.generate;

import static org.apache.spark.sql.functions.col;

import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.dataset.RunLayout;
import io.distillery.dataset.Stage;
import io.distillery.dataset.StageManifest;
import io.distillery.jobs.Datasets;
import io.distillery.jobs.HadoopFiles;
import io.distillery.jobs.StageJob;
import io.distillery.jobs.StageResult;
import io.distillery.jobs.Stages;
import io.distillery.jobs.task.DistillationTask;
import io.distillery.jobs.task.TeacherAttempts;
import io.distillery.jobs.task.Tasks;
import io.distillery.settings.Settings;
import io.distillery.teacher.TeacherIdentity;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stage 2, generate: fans the prompts out to the teacher across executors (one teacher per executor JVM)
 * and writes its answers, each row with provenance, plus a failure dataset. The teacher is asked exactly
 * once per prompt: attempts are staged to Parquet once and then split. Accounting, checked:
 * prompts = written + failed; the stage fails above generate.max-failure-fraction.
 */
public final class GenerateJob implements StageJob {
  private static final Logger LOG = LoggerFactory.getLogger(GenerateJob.class);

  @Override
  public Stage stage() {
    return Stage.GENERATE;
  }

  @Override
  public StageResult run(Settings settings, SparkSession spark, Map<Stage, StageManifest> upstream) {
    TeacherIdentity.requireDistillationAllowed(settings.teacher(), "generate");
    DistillationTask task = Tasks.of(settings);
    RunLayout layout = Stages.layout(settings);
    String staging = layout.root() + "/runs/" + layout.runId() + "/_staging/generate-attempts";

    Dataset<Row> prompts = Datasets.read(spark, DatasetKind.PROMPTS, layout);
    Datasets.stage(prompts.repartition(settings.spark().partitions())
        .mapPartitions(task.teacherFunction(settings), Encoders.row(TeacherAttempts.schema(task.outputDataset()))),
        staging);
    Dataset<Row> attempts = spark.read().parquet(staging);
    Datasets.write(attempts.where(col(TeacherAttempts.ANSWERED)), task.outputDataset(), layout);
    Datasets.write(attempts.where(col(TeacherAttempts.ANSWERED).equalTo(false)), DatasetKind.TEACHER_FAILURES,
        layout);
    HadoopFiles.delete(spark, staging);

    Dataset<Row> outputs = Datasets.read(spark, task.outputDataset(), layout);
    long rowsIn = prompts.count();
    long written = outputs.count();
    long failed = Datasets.read(spark, DatasetKind.TEACHER_FAILURES, layout).count();
    Map<String, Long> counts = new TreeMap<>(Map.of("rows_in", rowsIn, "written", written, "failed", failed));
    LOG.info("generate: rows in {} = written {} + failed {}", rowsIn, written, failed);
    if (rowsIn != written + failed) {
      throw new IllegalStateException("Generate accounting does not add up: " + counts);
    }
    double failedFraction = rowsIn == 0 ? 0 : failed / (double) rowsIn;
    if (failedFraction > settings.generate().maxFailureFraction()) {
      throw new IllegalStateException(String.format("The teacher failed on %d of %d prompts (%.2f%%), above "
          + "distillery.generate.max-failure-fraction = %s. The failures, with their errors, are in %s.",
          failed, rowsIn, 100 * failedFraction, settings.generate().maxFailureFraction(),
          layout.partition(DatasetKind.TEACHER_FAILURES)));
    }
    counts.putAll(task.generateAuxiliary(settings, spark, layout));
    Map<String, Object> details = new TreeMap<>(task.describeOutputs(settings, outputs));
    details.put("task", task.name());
    details.put("dataset", layout.partition(task.outputDataset()));
    return StageResult.of(counts, details).withTeacher(teacherOf(outputs, settings.teacher()));
  }

  /** The one teacher identity the rows record; a run answered by two different models is an error. */
  private static TeacherIdentity teacherOf(Dataset<Row> outputs, Settings.Teacher spec) {
    List<Row> ids = outputs.select(Cols.TEACHER_NAME, Cols.TEACHER_VERSION, Cols.TEACHER_ARTIFACT,
        Cols.TEACHER_SHA256, Cols.TERMS).distinct().limit(2).collectAsList();
    if (ids.size() != 1) {
      throw new IllegalStateException(ids.isEmpty() ? "The teacher answered no prompt."
          : "Rows of one run were answered by different teachers: " + ids);
    }
    Row r = ids.get(0);
    return new TeacherIdentity(r.getString(0), r.getString(1), r.getString(2), r.getString(3), r.getString(4),
        spec.terms().url(), spec.terms().distillationAllowed());
  }
}
