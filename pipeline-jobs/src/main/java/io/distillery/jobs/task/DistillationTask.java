package io.distillery.jobs.task;

import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.StageManifest;
import io.distillery.evaluation.EvaluationResult;
import io.distillery.settings.Settings;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.nd4j.linalg.dataset.DataSet;

/**
 * The plug-in point for a kind of distillation (embed now; classify and generate next). The stage jobs own
 * everything common (datasets, manifests, accounting, reuse, terms, checkpoints, the training master, the
 * gate); a task supplies only what differs: how its teacher answers, how answers become training examples,
 * the student, and how a student is scored.
 */
public interface DistillationTask {
  String name();

  /** The dataset the teacher's answers go to. */
  DatasetKind outputDataset();

  /**
   * Executor function for the generate stage: prompt rows (schema of {@link DatasetKind#PROMPTS}) in,
   * {@link TeacherAttempts#schema(DatasetKind)} rows out, one per prompt, answered or failed.
   */
  MapPartitionsFunction<Row, Row> teacherFunction(Settings settings);

  /** Facts about the teacher's answers recorded in the generate manifest (e.g. dimension, label vocabulary). */
  java.util.Map<String, Object> describeOutputs(Dataset<Row> outputs);

  /** Training examples (one per row) from the teacher's answers. */
  JavaRDD<DataSet> trainingExamples(Settings settings, Dataset<Row> outputs);

  /** The untrained student for these answers. */
  MultiLayerConfiguration student(Settings settings, StageManifest generate);

  /** Scores a trained student against the teacher on the held-out rows. */
  EvaluationResult evaluate(Settings settings, SparkSession spark, Dataset<Row> heldOut,
      Broadcast<byte[]> studentModel, String studentSha256);

  static StructType attemptSchema(DatasetKind output) {
    return TeacherAttempts.schema(output);
  }
}
