package io.distillery.jobs.task;

import io.distillery.evaluation.EvaluationResult;
import io.distillery.evaluation.Gate;
import io.distillery.jobs.stage.StageContext;
import io.distillery.settings.Settings;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/** A task's part of the evaluate stage: its metrics, report sections and gate thresholds. */
public interface TaskEvaluation {
  /**
   * Scores the trained students against the teacher on the held-out rows: the main student first, then the
   * ablations. Only the main student's metrics are gated.
   */
  EvaluationResult evaluate(StageContext ctx, Dataset<Row> heldOut, List<TrainedStudent> students);

  /** The thresholds of the promotion gate for this task's metrics. */
  List<Gate.Threshold> gate(Settings.Gate gate);
}
