package io.distillery.jobs.task;

import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.evaluation.EvaluationResult;
import io.distillery.evaluation.Gate;
import io.distillery.jobs.spark.Progress;
import io.distillery.jobs.stage.StageContext;
import io.distillery.run.RunLayout;
import io.distillery.settings.Settings;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;

/** A task's part of the evaluate stage: its metrics, report sections and gate thresholds. */
public interface TaskEvaluation {
  /**
   * Scores the trained students against the teacher on the held-out rows: the main student first, then the
   * ablations. Only the main student's metrics are gated.
   */
  EvaluationResult evaluate(StageContext ctx, Dataset<Row> heldOut, List<TrainedStudent> students);

  /** The thresholds of the promotion gate for this task's metrics. */
  List<Gate.Threshold> gate(Settings.Gate gate);

  /**
   * Writes the main student's per-row scores with each row's text ({@link RunLayout#heldOutScores}), for those who
   * look for where the student is worst.
   */
  static void writeScores(StageContext ctx, Dataset<Row> scores, Dataset<Row> heldOut) {
    Progress.describe(ctx.spark().sparkContext(), "evaluate: write held-out scores");
    scores.join(heldOut.select(Cols.ROW_ID, Cols.TEXT), Cols.ROW_ID).coalesce(1).write()
        .mode(SaveMode.Overwrite).parquet(ctx.layout().heldOutScores());
  }
}
