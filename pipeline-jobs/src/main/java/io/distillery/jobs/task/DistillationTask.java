package io.distillery.jobs.task;

import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.RunLayout;
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
import io.distillery.evaluation.Gate;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
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
   * {@link TeacherAttempts#schema(DatasetKind, Optional)} rows out: one per prompt, answered or failed, then the
   * task's by-product rows if it has any ({@link #byproductSchema}).
   */
  MapPartitionsFunction<Row, Row> teacherFunction(Settings settings);

  /**
   * Schema of the partial results the teacher function emits beside its answers, from the same pass over the
   * prompts, in the attempts' {@link TeacherAttempts#BYPRODUCT} column (e.g. the teacher's hidden states summed per
   * token over a partition); empty if it emits none. {@link #writeByproduct} combines them.
   */
  default Optional<StructType> byproductSchema(Settings settings) {
    return Optional.empty();
  }

  /**
   * Combines the by-product rows ({@link #byproductSchema}) of every partition and writes them, once the prompts are
   * answered; returns their counts for the generate manifest.
   */
  default Map<String, Long> writeByproduct(Settings settings, SparkSession spark, RunLayout layout,
      Dataset<Row> partials) {
    throw new UnsupportedOperationException("task " + name() + " emits no by-product");
  }

  /** Facts about the teacher's answers recorded in the generate manifest (e.g. dimension, label vocabulary). */
  Map<String, Object> describeOutputs(Settings settings, Dataset<Row> outputs);

  /**
   * Further teacher outputs the task's student needs beyond one answer per prompt (e.g. the teacher's vector
   * for each vocabulary token), written after the prompts are answered. Returns their counts for the manifest.
   */
  default Map<String, Long> generateAuxiliary(Settings settings, SparkSession spark, RunLayout layout) {
    return Map.of();
  }

  /** The initial student and what turns rows into its inputs, built on the driver. */
  TrainingPlan plan(Settings settings, SparkSession spark, RunLayout layout, StageManifest generate);

  /** Training examples (one per row) from the teacher's answers. */
  JavaRDD<DataSet> trainingExamples(Settings settings, Dataset<Row> outputs, TrainingPlan plan);

  /** The trained student as one self-contained file. */
  byte[] artifact(TrainingPlan plan, MultiLayerNetwork trained);

  /**
   * Students trained beside the main one on the same examples, for comparison in the report, by name: each is the
   * run's settings with something changed (e.g. "hard-labels": the soft-label weight set to 0). Their plans must
   * have the same inputs as the main student's.
   */
  default Map<String, Settings> ablations(Settings settings) {
    return Map.of();
  }

  /**
   * Scores the trained students against the teacher on the held-out rows: the main student first, then the
   * ablations. Only the main student's metrics are gated.
   */
  EvaluationResult evaluate(Settings settings, SparkSession spark, Dataset<Row> heldOut,
      List<TrainedStudent> students);

  /** The thresholds of the promotion gate for this task's metrics. */
  List<Gate.Threshold> gate(Settings.Gate gate);

  /** A trained student as the evaluate stage hands it out: its name, its bytes (broadcast) and their sha256. */
  record TrainedStudent(String name, Broadcast<byte[]> model, String sha256) implements java.io.Serializable {
    public static final String MAIN = "student";
  }

}
