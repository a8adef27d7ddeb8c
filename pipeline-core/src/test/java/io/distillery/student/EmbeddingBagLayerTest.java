package io.distillery.student;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.Random;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** The one-layer embedding bag against DL4J's own sequence embedding + average pooling: same function, same training. */
class EmbeddingBagLayerTest {
  private static final int ROWS = 50;
  private static final int WIDTH = 8;
  private static final int LENGTH = 7;

  /** DL4J's pair (the layout students had before) or the bag, with the same dense head on top. */
  private static MultiLayerNetwork network(boolean bag) {
    NeuralNetConfiguration.ListBuilder list = new NeuralNetConfiguration.Builder()
        .seed(7)
        .dataType(DataType.FLOAT)
        .updater(new Adam(0.01))
        .weightInit(WeightInit.XAVIER)
        .list();
    if (bag) {
      list.layer(EmbeddingBagLayer.of(ROWS, WIDTH, LENGTH));
    } else {
      list.layer(new EmbeddingSequenceLayer.Builder().nIn(ROWS).nOut(WIDTH).inputLength(LENGTH).hasBias(false)
              .weightInit(WeightInit.NORMAL).build())
          .layer(new GlobalPoolingLayer.Builder(PoolingType.AVG).collapseDimensions(true).build());
    }
    MultiLayerConfiguration conf = list
        .layer(new DenseLayer.Builder().nIn(WIDTH).nOut(6).activation(Activation.RELU).build())
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(6).nOut(3)
            .activation(Activation.IDENTITY).build())
        .build();
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init();
    return net;
  }

  /** Examples of 1..LENGTH ids (repeats within an example included), padded with id 0 under a zero mask. */
  private static DataSet examples(int n, long seed) {
    Random random = new Random(seed);
    float[][] ids = new float[n][LENGTH];
    float[][] mask = new float[n][LENGTH];
    for (int i = 0; i < n; i++) {
      int length = 1 + random.nextInt(LENGTH);
      for (int t = 0; t < length; t++) {
        ids[i][t] = t > 0 && random.nextInt(4) == 0 ? ids[i][t - 1] : random.nextInt(ROWS);
        mask[i][t] = 1;
      }
    }
    return new DataSet(Nd4j.createFromArray(ids), Nd4j.rand(DataType.FLOAT, n, 3), Nd4j.createFromArray(mask), null);
  }

  @Test
  void computesAndTrainsAsDl4jsSequenceEmbeddingWithAveragePooling() {
    MultiLayerNetwork pair = network(false);
    MultiLayerNetwork bag = network(true);
    assertEquals(pair.numParams(), bag.numParams());
    copyParameters(pair, bag);
    DataSet data = examples(16, 1);

    INDArray expected = pair.output(data.getFeatures(), false, data.getFeaturesMaskArray(), null);
    INDArray actual = bag.output(data.getFeatures(), false, data.getFeaturesMaskArray(), null);
    assertArrayEquals(expected.toFloatMatrix()[3], actual.toFloatMatrix()[3], 1e-6f);
    assertTrue(expected.equalsWithEps(actual, 1e-6), "outputs differ");

    for (MultiLayerNetwork net : new MultiLayerNetwork[] {pair, bag}) {
      net.setInput(data.getFeatures());
      net.setLabels(data.getLabels());
      net.setLayerMaskArrays(data.getFeaturesMaskArray(), null);
      net.computeGradientAndScore();
    }
    assertEquals(pair.score(), bag.score(), 1e-6);
    for (int l = 0; l < 3; l++) {
      for (String key : bag.getLayer(l).paramTable().keySet()) {
        INDArray expectedGradient = pair.gradient().getGradientFor(l + (l == 0 ? 0 : 1) + "_" + key);
        INDArray gradient = bag.gradient().getGradientFor(l + "_" + key);
        assertTrue(expectedGradient.norm2Number().doubleValue() > 0, "no gradient to compare for " + l + key);
        assertTrue(expectedGradient.equalsWithEps(gradient, 1e-6), "gradients of layer " + l + " " + key + " differ");
      }
    }

    // A few Adam steps on fresh batches: the same trajectory.
    for (int step = 0; step < 5; step++) {
      DataSet batch = examples(16, 10 + step);
      pair.fit(batch);
      bag.fit(batch);
    }
    for (int l = 0; l < 3; l++) {
      for (String key : bag.getLayer(l).paramTable().keySet()) {
        assertTrue(pair.getLayer(l == 0 ? 0 : l + 1).getParam(key).equalsWithEps(bag.getLayer(l).getParam(key), 1e-5),
            "layer " + l + " " + key + " diverged in training");
      }
    }
    assertTrue(pair.params().sub(network(false).params()).norm2Number().doubleValue() > 0.01, "training moved nothing");
  }

  /** The pair's parameters into the bag network, by name (the table is laid out differently). */
  private static void copyParameters(MultiLayerNetwork pair, MultiLayerNetwork bag) {
    for (int l = 0; l < bag.getnLayers(); l++) {
      MultiLayerNetwork from = pair;
      int source = l == 0 ? 0 : l + 1; // the pair's pooling layer has no parameters
      for (String key : bag.getLayer(l).paramTable().keySet()) {
        bag.getLayer(l).getParam(key).assign(from.getLayer(source).getParam(key));
      }
    }
  }

  @Test
  void theTableIsRowMajorAndNormallyInitialised() {
    MultiLayerNetwork bag = network(true);
    INDArray table = bag.getLayer(0).getParam("W");
    assertEquals('c', table.ordering());
    assertArrayEquals(new long[] {ROWS, WIDTH}, table.shape());
    // Row 1 starts right after row 0 in the flattened parameters.
    assertEquals(table.getFloat(1, 0), bag.params().getFloat(WIDTH));
    double std = table.stdNumber().doubleValue();
    assertTrue(std > 0.5 / Math.sqrt(ROWS) && std < 2 / Math.sqrt(ROWS), "std " + std);
  }

  @Test
  void withoutAMaskEveryPositionCounts() {
    MultiLayerNetwork pair = network(false);
    MultiLayerNetwork bag = network(true);
    copyParameters(pair, bag);
    INDArray features = examples(4, 2).getFeatures();
    assertTrue(pair.output(features).equalsWithEps(bag.output(features), 1e-6));
  }

  @Test
  void roundTripsThroughJsonAndModelSerializer() throws Exception {
    MultiLayerNetwork bag = network(true);
    MultiLayerConfiguration conf = bag.getLayerWiseConfigurations();
    assertEquals(conf, MultiLayerConfiguration.fromJson(conf.toJson()));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    ModelSerializer.writeModel(bag, bytes, true);
    MultiLayerNetwork restored = ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(bytes.toByteArray()));
    assertTrue(restored.getLayer(0) instanceof EmbeddingBagLayer.Impl);
    DataSet data = examples(5, 3);
    assertTrue(bag.output(data.getFeatures(), false, data.getFeaturesMaskArray(), null)
        .equalsWithEps(restored.output(data.getFeatures(), false, data.getFeaturesMaskArray(), null), 0));
  }

  @Test
  void anIdOutsideTheTableIsAClearError() {
    MultiLayerNetwork bag = network(true);
    INDArray features = Nd4j.createFromArray(new float[][] {{1, 2, ROWS, 0, 0, 0, 0}});
    INDArray mask = Nd4j.createFromArray(new float[][] {{1, 1, 1, 0, 0, 0, 0}});
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> bag.output(features, false, mask, null));
    assertTrue(e.getMessage().contains("position 2") && e.getMessage().contains("[0, " + (ROWS - 1) + "]"),
        e.getMessage());
  }
}
