package io.distillery.jobs.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.distillery.jobs.TestRuns;
import io.distillery.settings.Settings;
import io.distillery.student.StaticEmbeddingStudent;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * DL4J's own invariant for distributed training, on Distillery's student and loss: parameter averaging with
 * one worker is single-machine training on the same data in the same order from the same start.
 */
class ParameterAveragingInvariantTest {
  private static final int VOCABULARY = 50;
  private static final int MAX_TOKENS = 8;
  private static final int DIM = 12;

  @TempDir
  Path root;

  private static List<DataSet> examples(int n, long seed) {
    Random random = new Random(seed);
    List<DataSet> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      float[][] ids = new float[1][MAX_TOKENS];
      float[][] mask = new float[1][MAX_TOKENS];
      int length = 2 + random.nextInt(MAX_TOKENS - 1);
      for (int t = 0; t < length; t++) {
        ids[0][t] = random.nextInt(VOCABULARY);
        mask[0][t] = 1;
      }
      float[][] label = new float[1][DIM];
      for (int d = 0; d < DIM; d++) {
        label[0][d] = (float) random.nextGaussian();
      }
      out.add(new DataSet(Nd4j.createFromArray(ids), Nd4j.createFromArray(label), Nd4j.createFromArray(mask), null));
    }
    return out;
  }

  private Settings settings(int batchSize, int averagingFrequency) {
    Map<String, String> o = TestRuns.small(root, "invariant");
    o.put("distillery.student.width", "16");
    o.put("distillery.student.max-tokens", Integer.toString(MAX_TOKENS));
    o.put("distillery.train.batch-size", Integer.toString(batchSize));
    o.put("distillery.train.averaging-frequency", Integer.toString(averagingFrequency));
    o.put("distillery.train.loss.mse-weight", "0.5");
    return TestRuns.settings(o);
  }

  private static MultiLayerNetwork newStudent(Settings s) {
    MultiLayerNetwork net = new MultiLayerNetwork(
        StaticEmbeddingStudent.configuration(s.student(), s.train(), VOCABULARY, DIM));
    net.init();
    return net;
  }

  @Test
  void oneWorkerEqualsSingleMachineTraining() {
    int batch = 8;
    int averagingFrequency = 6;
    Settings s = settings(batch, averagingFrequency);
    List<DataSet> data = examples(batch * averagingFrequency, 11);

    MultiLayerNetwork single = newStudent(s);
    INDArray start = single.params().dup();
    for (int i = 0; i < data.size(); i += batch) {
      single.fit(DataSet.merge(data.subList(i, i + batch)));
    }

    SparkSession spark = TestRuns.spark(s);
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    JavaRDD<DataSet> rdd = TrainingMasters.minibatches(jsc.parallelize(data, 1), batch);
    SparkDl4jMultiLayer distributed = new SparkDl4jMultiLayer(jsc, newStudent(s),
        TrainingMasters.parameterAveraging(s.train(), 1));
    assertEquals(start, distributed.getNetwork().params(), "same seed, same start");
    distributed.fit(rdd);

    INDArray expected = single.params();
    INDArray actual = distributed.getNetwork().params();
    assertTrue(expected.sub(start).norm2Number().doubleValue() > 1e-3, "training moved the parameters");
    double maxDiff = expected.sub(actual).amaxNumber().doubleValue();
    assertTrue(maxDiff < 1e-5, "max parameter difference " + maxDiff);
    assertEquals(single.score(DataSet.merge(data)), distributed.getNetwork().score(DataSet.merge(data)), 1e-5);
  }

  /**
   * Over several averaging rounds, still one worker is single-machine training: the network, its updater state
   * (Adam's moments) and its step count (which Adam's bias correction reads) carried from each round to the next.
   * Every minibatch is the same one, because the training master hands each round a random split of the
   * minibatches, so their order would differ from a sequential fit's.
   */
  @Test
  void oneWorkerEqualsSingleMachineTrainingAcrossSeveralAveragingRounds() {
    int batch = 8;
    int averagingFrequency = 2;
    int rounds = 3;
    Settings s = settings(batch, averagingFrequency);
    List<DataSet> one = examples(batch, 17);
    List<DataSet> data = new ArrayList<>();
    for (int i = 0; i < averagingFrequency * rounds; i++) {
      data.addAll(one);
    }

    MultiLayerNetwork single = newStudent(s);
    for (int i = 0; i < averagingFrequency * rounds; i++) {
      single.fit(DataSet.merge(one));
    }
    SparkSession spark = TestRuns.spark(s);
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    SparkDl4jMultiLayer distributed = new SparkDl4jMultiLayer(jsc, newStudent(s),
        TrainingMasters.parameterAveraging(s.train(), 1));
    distributed.fit(TrainingMasters.minibatches(jsc.parallelize(data, 1), batch));

    MultiLayerNetwork trained = distributed.getNetwork();
    assertEquals(averagingFrequency * rounds, trained.getLayerWiseConfigurations().getIterationCount(),
        "one step per minibatch");
    double maxDiff = single.params().sub(trained.params()).amaxNumber().doubleValue();
    assertTrue(maxDiff < 1e-5, "max parameter difference " + maxDiff);
  }

  @Test
  void twoWorkersOnIdenticalDataEqualOneWorker() {
    // Averaging identical replicas must be the identity: both workers see the same batches.
    int batch = 8;
    Settings s = settings(batch, 4);
    List<DataSet> half = examples(batch * 4, 23);
    List<DataSet> doubled = new ArrayList<>(half);
    doubled.addAll(half);

    SparkSession spark = TestRuns.spark(s);
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    SparkDl4jMultiLayer one = new SparkDl4jMultiLayer(jsc, newStudent(s), TrainingMasters.parameterAveraging(s.train(), 1));
    one.fit(TrainingMasters.minibatches(jsc.parallelize(half, 1), batch));
    SparkDl4jMultiLayer two = new SparkDl4jMultiLayer(jsc, newStudent(s), TrainingMasters.parameterAveraging(s.train(), 2));
    two.fit(TrainingMasters.minibatches(jsc.parallelize(doubled, 2), batch));
    double maxDiff = one.getNetwork().params().sub(two.getNetwork().params()).amaxNumber().doubleValue();
    assertTrue(maxDiff < 1e-5, "max parameter difference " + maxDiff);
  }
}
