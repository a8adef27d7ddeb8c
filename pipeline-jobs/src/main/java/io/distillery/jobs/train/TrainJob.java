package io.distillery.jobs.train;

import static org.apache.spark.sql.functions.col;

import io.distillery.corpus.Split;
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
import io.distillery.jobs.task.Tasks;
import io.distillery.jobs.task.TrainingPlan;
import io.distillery.settings.Settings;
import io.distillery.teacher.TeacherIdentity;
import io.distillery.util.Hashing;
import io.distillery.util.Version;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.nd4j.linalg.dataset.DataSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stage 3, train: distils the student from the teacher's answers with DL4J's parameter-averaging training
 * master on Spark. Scores the validation split after every epoch and checkpoints it; writes the final model
 * (ModelSerializer) and a model card naming the teacher, its terms and the datasets it learnt from.
 */
public final class TrainJob implements StageJob {
  private static final Logger LOG = LoggerFactory.getLogger(TrainJob.class);

  @Override
  public Stage stage() {
    return Stage.TRAIN;
  }

  @Override
  public StageResult run(Settings settings, SparkSession spark, Map<Stage, StageManifest> upstream) {
    TeacherIdentity.requireDistillationAllowed(settings.teacher(), "train");
    StageManifest generate = upstream.get(Stage.GENERATE);
    DistillationTask task = Tasks.of(settings);
    RunLayout layout = Stages.layout(settings);
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    int workers = settings.train().workers() > 0 ? settings.train().workers() : jsc.defaultParallelism();

    Dataset<Row> outputs = Datasets.read(spark, task.outputDataset(), layout);
    TrainingPlan plan = task.plan(settings, spark, layout, generate);
    int batch = settings.train().batchSize();
    JavaRDD<DataSet> train = TrainingMasters.minibatches(task.trainingExamples(settings,
            sample(outputs.where(col(Cols.SPLIT).equalTo(Split.TRAIN.label())), settings.train().fraction()), plan)
            .repartition(workers), batch)
        .persist(TrainingMasters.EXAMPLES);
    JavaRDD<DataSet> validation = TrainingMasters.minibatches(task.trainingExamples(settings,
            outputs.where(col(Cols.SPLIT).equalTo(Split.VALIDATION.label())), plan), batch)
        .persist(TrainingMasters.EXAMPLES);
    try {
      long trainRows = train.map(DataSet::numExamples).fold(0, Integer::sum);
      long validationRows = validation.map(DataSet::numExamples).fold(0, Integer::sum);
      if (trainRows == 0) {
        throw new IllegalStateException("Run '" + layout.runId() + "' has no training rows in "
            + layout.partition(task.outputDataset()));
      }
      Trained student = fit("student", settings, task, plan, train, validation, workers, jsc, spark,
          layout::checkpoint);
      HadoopFiles.write(spark, layout.studentModel(), student.model());
      Map<String, Object> ablations = new LinkedHashMap<>();
      for (Map.Entry<String, Settings> a : task.ablations(settings).entrySet()) {
        TrainingPlan variant = task.plan(a.getValue(), spark, layout, generate);
        if (!variant.inputs().equals(plan.inputs())) {
          throw new IllegalStateException("Ablation '" + a.getKey() + "' reads its inputs differently from the "
              + "student; an ablation must train on the same examples.");
        }
        Trained t = fit(a.getKey(), a.getValue(), task, variant, train, validation, workers, jsc, spark,
            epoch -> layout.ablationCheckpoint(a.getKey(), epoch));
        HadoopFiles.write(spark, layout.ablationModel(a.getKey()), t.model());
        ablations.put(a.getKey(), Map.of("model", layout.ablationModel(a.getKey()),
            "model_sha256", Hashing.sha256Hex(t.model()), "loss", a.getValue().train().loss(),
            "chosen_epoch", t.chosenEpoch(), "epochs", t.epochs()));
      }
      Map<String, Object> card = modelCard(settings, upstream, student.network(), student.model(), workers,
          student.epochs());
      card.put("student_inputs", plan.details());
      card.put("chosen_epoch", student.chosenEpoch());
      if (!ablations.isEmpty()) {
        card.put("ablations", ablations);
      }
      HadoopFiles.write(spark, layout.modelCard(), toJson(card));
      Map<String, Object> details = new LinkedHashMap<>();
      details.put("model", layout.studentModel());
      details.put("model_sha256", card.get("model_sha256"));
      details.put("epochs", student.epochs());
      details.put("chosen_epoch", student.chosenEpoch());
      details.put("workers", workers);
      if (!ablations.isEmpty()) {
        details.put("ablations", ablations);
      }
      return StageResult.of(Map.of("train_rows", trainRows, "validation_rows", validationRows), details)
          .withTeacher(generate.teacher());
    } finally {
      train.unpersist();
      validation.unpersist();
    }
  }

  /** A trained network: the chosen epoch's model file, and the per-epoch record. */
  private record Trained(byte[] model, MultiLayerNetwork network, int chosenEpoch, List<Map<String, Object>> epochs) {}

  /**
   * {@code train.fraction} of the rows, chosen by a hash of the row id: the same rows whatever the seed, the run
   * or the partitioning (all of them at 1).
   */
  static Dataset<Row> sample(Dataset<Row> rows, double fraction) {
    if (fraction >= 1) {
      return rows;
    }
    long buckets = 1_000_000;
    return rows.where(org.apache.spark.sql.functions.pmod(org.apache.spark.sql.functions.xxhash64(col(Cols.ROW_ID)),
        org.apache.spark.sql.functions.lit(buckets)).lt(Math.round(fraction * buckets)));
  }

  /**
   * Trains one network with parameter averaging, scoring the validation split and checkpointing after every
   * epoch; keeps the epoch with the lowest validation loss (the last one if there is no validation split).
   */
  private static Trained fit(String name, Settings settings, DistillationTask task, TrainingPlan plan,
      JavaRDD<DataSet> train, JavaRDD<DataSet> validation, int workers, JavaSparkContext jsc, SparkSession spark,
      java.util.function.IntFunction<String> checkpointPath) {
    SparkDl4jMultiLayer sparkNet = new SparkDl4jMultiLayer(jsc, plan.initial(),
        TrainingMasters.parameterAveraging(settings.train(), workers));
    List<Map<String, Object>> epochs = new ArrayList<>();
    double initialLoss = ValidationLoss.mean(jsc, task.artifact(plan, plan.initial()), validation,
        settings.train().batchSize());
    LOG.info("{}: before training: validation loss {}", name, initialLoss);
    epochs.add(Map.of("epoch", 0, "validation_loss", initialLoss));
    byte[] best = null;
    int bestEpoch = 0;
    double bestLoss = Double.POSITIVE_INFINITY;
    for (int epoch = 1; epoch <= settings.train().epochs(); epoch++) {
      long start = System.nanoTime();
      sparkNet.fit(train);
      byte[] checkpoint = task.artifact(plan, sparkNet.getNetwork());
      HadoopFiles.write(spark, checkpointPath.apply(epoch), checkpoint);
      double validationLoss = ValidationLoss.mean(jsc, checkpoint, validation, settings.train().batchSize());
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("epoch", epoch);
      e.put("train_loss", sparkNet.getScore());
      e.put("validation_loss", validationLoss);
      e.put("seconds", Math.round((System.nanoTime() - start) / 1e7) / 100.0);
      epochs.add(e);
      if (best == null || Double.isNaN(validationLoss) || validationLoss < bestLoss) {
        best = checkpoint;
        bestEpoch = epoch;
        bestLoss = validationLoss;
      }
      LOG.info("{}: epoch {}/{}: train loss {} validation loss {}", name, epoch, settings.train().epochs(),
          sparkNet.getScore(), validationLoss);
    }
    LOG.info("{}: final model: epoch {} (validation loss {})", name, bestEpoch, bestLoss);
    return new Trained(best, sparkNet.getNetwork(), bestEpoch, epochs);
  }

  private static Map<String, Object> modelCard(Settings settings, Map<Stage, StageManifest> upstream,
      MultiLayerNetwork net, byte[] model, int workers, List<Map<String, Object>> epochs) {
    Map<String, Object> card = new LinkedHashMap<>();
    card.put("run_id", settings.run().id());
    card.put("task", settings.task());
    card.put("created_at", Instant.now().toString());
    card.put("code_version", Version.current());
    card.put("student", Map.of("settings", settings.student(), "parameters", net.numParams()));
    card.put("model_sha256", Hashing.sha256Hex(model));
    card.put("model_bytes", model.length);
    card.put("teacher", upstream.get(Stage.GENERATE).teacher());
    Map<String, Object> data = new LinkedHashMap<>();
    for (Map.Entry<Stage, StageManifest> e : upstream.entrySet()) {
      data.put(e.getKey().label() + "_manifest_hash", e.getValue().hash());
      data.put(e.getKey().label() + "_counts", e.getValue().counts());
    }
    card.put("datasets", data);
    card.put("training", Map.of("trainer", "dl4j ParameterAveragingTrainingMaster", "workers", workers,
        "settings", settings.train(), "epochs", epochs));
    return card;
  }

  private static byte[] toJson(Map<String, Object> card) {
    try {
      return StageManifest.json().writeValueAsBytes(card);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
