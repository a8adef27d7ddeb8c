package io.distillery.jobs.train;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.xxhash64;

import io.distillery.corpus.Split;
import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.jobs.spark.Progress;
import io.distillery.jobs.stage.StageContext;
import io.distillery.jobs.stage.StageJob;
import io.distillery.jobs.stage.StageResult;
import io.distillery.jobs.stage.TermsCheck;
import io.distillery.jobs.task.StudentPlan;
import io.distillery.jobs.task.StudentRecipe;
import io.distillery.provenance.ComputeBackend;
import io.distillery.run.AblationRecord;
import io.distillery.run.EpochRecord;
import io.distillery.run.ModelCard;
import io.distillery.run.Stage;
import io.distillery.run.StageManifest;
import io.distillery.run.TrainDetails;
import io.distillery.settings.Settings;
import io.distillery.settings.SignOff;
import io.distillery.util.Hashing;
import io.distillery.util.Version;
import java.io.Serializable;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.IntFunction;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.nd4j.linalg.dataset.DataSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stage 3, train: distils the student from the teacher's answers with DL4J's parameter-averaging training master on
 * Spark. Scores the validation split after every epoch and checkpoints it; writes the final model (ModelSerializer)
 * and a model card naming the teacher, its terms and the datasets it learnt from.
 */
public final class TrainJob implements StageJob {
  private static final Logger LOG = LoggerFactory.getLogger(TrainJob.class);
  private static final String TRAINER = "dl4j ParameterAveragingTrainingMaster";

  private final DatasetKind outputs;
  private final StudentRecipe<?> recipe;

  /**
   * @param outputs the dataset of the teacher's answers the student learns from
   * @param recipe the task's student
   */
  public TrainJob(DatasetKind outputs, StudentRecipe<?> recipe) {
    this.outputs = outputs;
    this.recipe = recipe;
  }

  @Override
  public Stage stage() {
    return Stage.TRAIN;
  }

  @Override
  public StageResult run(StageContext ctx, Map<Stage, StageManifest> upstream) {
    Optional<SignOff> signOff = TermsCheck.ofRows(ctx, outputs, upstream.get(Stage.GENERATE), "train");
    return train(recipe, ctx, upstream, signOff.orElse(null)).withSignOff(signOff);
  }

  private <I extends Serializable> StageResult train(StudentRecipe<I> recipe, StageContext ctx,
      Map<Stage, StageManifest> upstream, SignOff signOff) {
    Settings settings = ctx.settings();
    StageManifest generate = upstream.get(Stage.GENERATE);
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(ctx.spark().sparkContext());
    int workers = settings.train().workers() > 0 ? settings.train().workers() : jsc.defaultParallelism();

    Dataset<Row> rows = ctx.read(outputs);
    StudentPlan<I> plan = recipe.plan(ctx, generate);
    int batch = settings.train().batchSize();
    // Sorted by row id: the examples' order, and so the trained student, depends on the rows alone, not on how
    // the table's files happen to be split or listed.
    JavaRDD<DataSet> train = TrainingMasters.minibatches(recipe.examples(settings,
            sample(rows.where(col(Cols.SPLIT).equalTo(Split.TRAIN.label())), settings.train().fraction())
                .orderBy(Cols.ROW_ID), plan.inputs()).repartition(workers), batch)
        .persist(TrainingMasters.EXAMPLES);
    JavaRDD<DataSet> validation = TrainingMasters.minibatches(recipe.examples(settings,
            rows.where(col(Cols.SPLIT).equalTo(Split.VALIDATION.label())), plan.inputs()), batch)
        .persist(TrainingMasters.EXAMPLES);
    try {
      long trainRows = train.map(DataSet::numExamples).fold(0, Integer::sum);
      long validationRows = validation.map(DataSet::numExamples).fold(0, Integer::sum);
      if (trainRows == 0) {
        throw new IllegalStateException("Run '" + ctx.layout().runId() + "' has no training rows in "
            + ctx.describe(outputs));
      }
      List<ComputeBackend> backends = TrainingMasters.backends(jsc, workers, settings.train().device());
      LOG.info("student: training on {}", backends);
      Examples examples = new Examples(train, validation, workers, jsc);
      Trained student = fit("student", ctx, recipe, plan, examples, ctx.layout()::checkpoint);
      ctx.writeFile(ctx.layout().studentModel(), student.model());
      Map<String, AblationRecord> ablations = new LinkedHashMap<>();
      for (Map.Entry<String, Settings> a : recipe.ablations(settings).entrySet()) {
        StageContext variantCtx = ctx.with(a.getValue());
        StudentPlan<I> variant = recipe.plan(variantCtx, generate);
        if (!variant.inputs().equals(plan.inputs())) {
          throw new IllegalStateException("Ablation '" + a.getKey() + "' reads its inputs differently from the "
              + "student; an ablation must train on the same examples.");
        }
        Trained t = fit(a.getKey(), variantCtx, recipe, variant, examples,
            epoch -> ctx.layout().ablationCheckpoint(a.getKey(), epoch));
        ctx.writeFile(ctx.layout().ablationModel(a.getKey()), t.model());
        ablations.put(a.getKey(), new AblationRecord(ctx.layout().ablationModel(a.getKey()),
            Hashing.sha256Hex(t.model()), a.getValue().train().loss(), t.chosenEpoch(), t.epochs()));
      }
      String sha = Hashing.sha256Hex(student.model());
      ModelCard card = new ModelCard(settings.run().id(), settings.task(), Instant.now().toString(), Version.current(),
          new ModelCard.StudentRecord(settings.student(), student.network().numParams()), sha,
          student.model().length, generate.teacher(), ModelCard.Datasets.of(upstream.get(Stage.INGEST), generate),
          new ModelCard.Training(TRAINER, workers, settings.train(), backends, student.epochs()), plan.facts(),
          student.chosenEpoch(), ablations, settings.purpose().description(), signOff, List.of());
      ctx.writeFile(ctx.layout().modelCard(), card.toJson());
      return StageResult.of(Map.of("train_rows", trainRows, "validation_rows", validationRows),
          new TrainDetails(ctx.layout().studentModel(), sha, student.epochs(), student.chosenEpoch(), workers,
              ablations)).withTeacher(generate.teacher());
    } finally {
      train.unpersist();
      validation.unpersist();
    }
  }

  /** The minibatches every student of the run trains and is validated on, and where. */
  private record Examples(JavaRDD<DataSet> train, JavaRDD<DataSet> validation, int workers, JavaSparkContext jsc) {}

  /** A trained network: the chosen epoch's model file, and the per-epoch record. */
  private record Trained(byte[] model, MultiLayerNetwork network, int chosenEpoch, List<EpochRecord> epochs) {}

  /**
   * {@code train.fraction} of the rows, chosen by a hash of the row id: the same rows whatever the seed, the run or
   * the partitioning (all of them at 1).
   */
  static Dataset<Row> sample(Dataset<Row> rows, double fraction) {
    if (fraction >= 1) {
      return rows;
    }
    long buckets = 1_000_000;
    return rows.where(pmod(xxhash64(col(Cols.ROW_ID)), lit(buckets)).lt(Math.round(fraction * buckets)));
  }

  /**
   * Trains one network with parameter averaging, scoring the validation split and checkpointing after every epoch;
   * keeps the epoch with the lowest validation loss (the last one if there is no validation split).
   */
  private static <I extends Serializable> Trained fit(String name, StageContext ctx, StudentRecipe<I> recipe,
      StudentPlan<I> plan, Examples examples, IntFunction<String> checkpointPath) {
    Settings.Train spec = ctx.settings().train();
    SparkDl4jMultiLayer sparkNet = new SparkDl4jMultiLayer(examples.jsc(), plan.initial(),
        TrainingMasters.parameterAveraging(spec, examples.workers()));
    List<EpochRecord> epochs = new ArrayList<>();
    SparkContext sc = examples.jsc().sc();
    Progress.describe(sc, "train: " + name + ": validation loss before training");
    double initialLoss = ValidationLoss.mean(examples.jsc(), recipe.artifact(plan.inputs(), plan.initial()),
        examples.validation(), spec.batchSize());
    LOG.info("{}: before training: validation loss {}", name, initialLoss);
    epochs.add(EpochRecord.untrained(initialLoss));
    byte[] best = null;
    int bestEpoch = 0;
    double bestLoss = Double.POSITIVE_INFINITY;
    for (int epoch = 1; epoch <= spec.epochs(); epoch++) {
      long start = System.nanoTime();
      Progress.describe(sc, "train: " + name + ": epoch " + epoch + "/" + spec.epochs() + " (validation loss so far "
          + String.format("%.4f", epochs.get(epochs.size() - 1).validationLoss()) + ")");
      sparkNet.fit(examples.train());
      byte[] checkpoint = recipe.artifact(plan.inputs(), sparkNet.getNetwork());
      ctx.writeFile(checkpointPath.apply(epoch), checkpoint);
      double validationLoss = ValidationLoss.mean(examples.jsc(), checkpoint, examples.validation(),
          spec.batchSize());
      epochs.add(new EpochRecord(epoch, sparkNet.getScore(), validationLoss,
          Math.round((System.nanoTime() - start) / 1e7) / 100.0));
      if (best == null || Double.isNaN(validationLoss) || validationLoss < bestLoss) {
        best = checkpoint;
        bestEpoch = epoch;
        bestLoss = validationLoss;
      }
      LOG.info("{}: epoch {}/{}: train loss {} validation loss {}", name, epoch, spec.epochs(), sparkNet.getScore(),
          validationLoss);
    }
    LOG.info("{}: final model: epoch {} (validation loss {})", name, bestEpoch, bestLoss);
    return new Trained(best, sparkNet.getNetwork(), bestEpoch, epochs);
  }
}
