package io.distillery.bench;

import io.distillery.corpus.Split;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.jobs.StandaloneCluster;
import io.distillery.jobs.pipeline.Pipeline;
import io.distillery.jobs.pipeline.TaskRegistry;
import io.distillery.jobs.spark.SparkSessions;
import io.distillery.jobs.stage.StageContext;
import io.distillery.jobs.task.StudentPlan;
import io.distillery.jobs.task.StudentRecipe;
import io.distillery.jobs.train.TrainingMasters;
import io.distillery.run.Stage;
import io.distillery.run.StageManifest;
import io.distillery.settings.Settings;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.nd4j.linalg.dataset.DataSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * bench/train-scale.sh: samples/s of parameter-averaging training (the train stage's TrainingMaster and
 * minibatches) with 1 and 2 workers on a standalone cluster of two one-core Workers, each divided by a single-JVM
 * {@code fit} of the same network on the same minibatches in this JVM, and the 2-worker rate at several averaging
 * frequencies. Rounds alternate the variants, so each ratio is measured minutes apart at most.
 *
 * <p>Usage: TrainScaleBench ROOT ROUNDS FREQUENCIES (comma-separated, e.g. 10,30,120)
 */
public final class TrainScaleBench {
  private static final Logger LOG = LoggerFactory.getLogger(TrainScaleBench.class);
  private static final String RUN = "train-scale";
  /** Minibatches the loss after an epoch is measured on, the same for every variant. */
  private static final int LOSS_BATCHES = 32;

  private TrainScaleBench() {}

  /** One epoch's measurement: samples per second, and the trained network's loss on the first minibatches. */
  private record Epoch(double samplesPerSecond, double loss) {}

  public static void main(String[] args) throws Exception {
    Path root = Path.of(args[0]);
    int rounds = Integer.parseInt(args[1]);
    List<Integer> frequencies = new ArrayList<>();
    for (String f : args[2].split(",")) {
      frequencies.add(Integer.parseInt(f.trim()));
    }
    Settings settings = Settings.load(Optional.empty(), Map.of("distillery.run.root", root.toUri().toString(),
        "distillery.run.id", RUN, "distillery.spark.master", "local[2]"));
    int defaultFrequency = settings.train().averagingFrequency();
    if (!frequencies.contains(defaultFrequency)) {
      frequencies.add(defaultFrequency);
    }

    // The default embed run's training minibatches, made as the train stage makes them (ingest and generate run
    // here first, or are reused from an earlier bench run under ROOT).
    SparkSession local = SparkSessions.create(settings);
    Map<Stage, StageManifest> done = Pipeline.run(settings, local, List.of(Stage.INGEST, Stage.GENERATE), false);
    Inputs<?> inputs = inputs(StageContext.of(settings, local), done.get(Stage.GENERATE));
    local.stop();
    long samples = inputs.batches().stream().mapToLong(DataSet::numExamples).sum();
    LOG.info("{} training samples in {} minibatches of {}", samples, inputs.batches().size(),
        settings.train().batchSize());
    long params = inputs.initial().numParams();

    Path clusterDir = Files.createTempDirectory(root, "cluster-"); // the Workers' directories, fresh each run
    try (StandaloneCluster cluster = StandaloneCluster.start(clusterDir, 2, 2048)) {
      SparkSession spark = cluster.session("distillery-train-scale", 2);
      JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
      Map<Integer, JavaRDD<DataSet>> byWorkers = new LinkedHashMap<>();
      for (int workers : List.of(1, 2)) {
        JavaRDD<DataSet> rdd = jsc.parallelize(inputs.batches(), workers).persist(TrainingMasters.EXAMPLES);
        rdd.count(); // on the executors before any epoch is timed
        byWorkers.put(workers, rdd);
      }
      Map<String, List<Epoch>> results = new LinkedHashMap<>();
      // A warm-up epoch of each (JIT, native libraries, the executors' first tasks), not reported.
      for (int round = 0; round <= rounds; round++) {
        record(results, round, "single JVM", single(inputs.initial(), inputs.batches(), samples));
        record(results, round, "1 worker, averaging every " + defaultFrequency,
            cluster(jsc, inputs.initial(), byWorkers.get(1), inputs.batches(), 1, defaultFrequency, samples));
        for (int f : frequencies) {
          record(results, round, "2 workers, averaging every " + f,
              cluster(jsc, inputs.initial(), byWorkers.get(2), inputs.batches(), 2, f, samples));
        }
      }
      spark.stop();
      report(results, samples, inputs.batches().size(), params);
    }
  }

  private record Inputs<I extends Serializable>(MultiLayerNetwork initial, List<DataSet> batches) {}

  private static <I extends Serializable> Inputs<I> inputs(StageContext ctx, StageManifest generate) {
    @SuppressWarnings("unchecked")
    StudentRecipe<I> recipe = (StudentRecipe<I>) TaskRegistry.of(ctx.settings().task()).student().orElseThrow();
    StudentPlan<I> plan = recipe.plan(ctx, generate);
    var rows = ctx.read(TaskRegistry.of(ctx.settings().task()).generation().output())
        .where(functions.col(Cols.SPLIT).equalTo(Split.TRAIN.label())).orderBy(Cols.ROW_ID);
    List<DataSet> batches = TrainingMasters.minibatches(recipe.examples(ctx.settings(), rows, plan.inputs()),
        ctx.settings().train().batchSize()).collect(); // the bench's input, a few MB
    return new Inputs<>(plan.initial(), batches);
  }

  private static void record(Map<String, List<Epoch>> results, int round, String variant, Epoch epoch) {
    LOG.info("round {}: {}: {} samples/s, loss {}", round, variant, Math.round(epoch.samplesPerSecond()),
        epoch.loss());
    if (round > 0) {
      results.computeIfAbsent(variant, v -> new ArrayList<>()).add(epoch);
    }
  }

  /** One epoch of {@code fit} per minibatch in this JVM: what a worker does between averagings, without Spark. */
  private static Epoch single(MultiLayerNetwork initial, List<DataSet> batches, long samples) {
    MultiLayerNetwork net = initial.clone();
    long start = System.nanoTime();
    for (DataSet batch : batches) {
      net.fit(batch);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    return new Epoch(samples / seconds, loss(net, batches));
  }

  /** One epoch of the train stage's parameter averaging over {@code workers} executors. */
  private static Epoch cluster(JavaSparkContext jsc, MultiLayerNetwork initial, JavaRDD<DataSet> batches,
      List<DataSet> lossBatches, int workers, int averagingFrequency, long samples) {
    Settings.Train train = Settings.load(Optional.empty(), Map.of("distillery.train.averaging-frequency",
        Integer.toString(averagingFrequency))).train();
    SparkDl4jMultiLayer net = new SparkDl4jMultiLayer(jsc, initial.clone(),
        TrainingMasters.parameterAveraging(train, workers));
    long start = System.nanoTime();
    net.fit(batches);
    double seconds = (System.nanoTime() - start) / 1e9;
    return new Epoch(samples / seconds, loss(net.getNetwork(), lossBatches));
  }

  private static double loss(MultiLayerNetwork net, List<DataSet> batches) {
    double sum = 0;
    for (DataSet batch : batches.subList(0, Math.min(LOSS_BATCHES, batches.size()))) {
      sum += net.score(batch);
    }
    return sum / Math.min(LOSS_BATCHES, batches.size());
  }

  private static void report(Map<String, List<Epoch>> results, long samples, int batches, long params) {
    double single = median(results.get("single JVM"));
    System.out.printf(Locale.ROOT, "training samples/s, median of %d rounds, %d samples in %d minibatches; the "
        + "student has %d parameters (%.1f MB, and twice that of Adam state, sent each way at every averaging):%n",
        results.get("single JVM").size(), samples, batches, params, params * 4 / 1e6);
    for (Map.Entry<String, List<Epoch>> e : results.entrySet()) {
      List<Epoch> epochs = e.getValue();
      System.out.printf(Locale.ROOT, "  %-34s %8.0f samples/s  loss after an epoch %.4f  rounds %s%n", e.getKey(),
          median(epochs), epochs.get(epochs.size() - 1).loss(),
          epochs.stream().map(x -> String.format(Locale.ROOT, "%.0f", x.samplesPerSecond())).toList());
    }
    for (Map.Entry<String, List<Epoch>> e : results.entrySet()) {
      if (!e.getKey().equals("single JVM")) {
        System.out.printf(Locale.ROOT, "RATIO %-34s / single JVM = %.3f%n", e.getKey(), median(e.getValue()) / single);
      }
    }
  }

  private static double median(List<Epoch> epochs) {
    double[] v = epochs.stream().mapToDouble(Epoch::samplesPerSecond).sorted().toArray();
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }
}
