package io.distillery.student;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.ILossFunction;

class CosineMseLossTest {

  @ParameterizedTest
  @CsvSource({"1.0, 0.0, identity", "0.0, 1.0, identity", "0.7, 0.3, identity", "1.0, 0.5, tanh"})
  void analyticGradientMatchesFiniteDifferences(double cosineWeight, double mseWeight, String activation) {
    Nd4j.getRandom().setSeed(7);
    CosineMseLoss loss = new CosineMseLoss(cosineWeight, mseWeight);
    var act = activation.equals("tanh") ? new ActivationTanH() : new ActivationIdentity();
    INDArray pre = Nd4j.randn(DataType.DOUBLE, 4, 6);
    INDArray labels = Nd4j.randn(DataType.DOUBLE, 4, 6);
    INDArray grad = loss.computeGradient(labels, pre, act, null);
    double h = 1e-6;
    for (int i = 0; i < 4; i++) {
      for (int j = 0; j < 6; j++) {
        INDArray plus = pre.dup();
        plus.putScalar(i, j, pre.getDouble(i, j) + h);
        INDArray minus = pre.dup();
        minus.putScalar(i, j, pre.getDouble(i, j) - h);
        double numeric = (loss.computeScore(labels, plus, act, null, false)
            - loss.computeScore(labels, minus, act, null, false)) / (2 * h);
        assertEquals(numeric, grad.getDouble(i, j), 1e-6, "d/d pre[" + i + "," + j + "]");
      }
    }
  }

  @Test
  void scoreIsZeroForIdenticalAndTwoForOppositeVectors() {
    CosineMseLoss loss = new CosineMseLoss(1.0, 0.0);
    INDArray t = Nd4j.createFromArray(new double[][] {{1, 2, 3}, {0, 1, 0}});
    assertEquals(0.0, loss.computeScore(t, t.mul(3), new ActivationIdentity(), null, true), 1e-6);
    assertEquals(2.0, loss.computeScore(t, t.neg(), new ActivationIdentity(), null, true), 1e-6);
  }

  @Test
  void maskedExamplesContributeNothing() {
    CosineMseLoss loss = new CosineMseLoss(1.0, 1.0);
    INDArray labels = Nd4j.randn(DataType.DOUBLE, 3, 5);
    INDArray pre = Nd4j.randn(DataType.DOUBLE, 3, 5);
    INDArray mask = Nd4j.createFromArray(new double[][] {{1}, {0}, {1}});
    INDArray scores = loss.computeScoreArray(labels, pre, new ActivationIdentity(), mask);
    assertEquals(0.0, scores.getDouble(1, 0), 0.0);
    assertTrue(scores.getDouble(0, 0) > 0);
    INDArray grad = loss.computeGradient(labels, pre, new ActivationIdentity(), mask);
    assertEquals(0.0, grad.getRow(1).norm2Number().doubleValue(), 0.0);
  }

  @Test
  void survivesJsonRoundTripAsSparkShipsIt() {
    var conf = new NeuralNetConfiguration.Builder().list()
        .layer(new OutputLayer.Builder(new CosineMseLoss(0.8, 0.2))
            .nIn(3).nOut(3).build())
        .build();
    var back = MultiLayerConfiguration.fromJson(conf.toJson());
    ILossFunction restored = ((OutputLayer) back.getConf(0).getLayer()).getLossFn();
    assertEquals(new CosineMseLoss(0.8, 0.2), restored);
  }

  @Test
  void rejectsWeightsThatMakeNoLoss() {
    assertThrows(IllegalArgumentException.class, () -> new CosineMseLoss(0, 0));
    assertThrows(IllegalArgumentException.class, () -> new CosineMseLoss(-1, 1));
  }
}
