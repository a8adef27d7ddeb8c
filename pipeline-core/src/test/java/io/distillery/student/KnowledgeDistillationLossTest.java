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
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

class KnowledgeDistillationLossTest {
  private static final int BATCH = 4;
  private static final int CLASSES = 5;

  /** Labels [batch, 2C]: random soft distributions, then one-hot hard labels. */
  private static INDArray labels() {
    INDArray soft = Transforms.softmax(Nd4j.randn(DataType.DOUBLE, BATCH, CLASSES).muli(2), true);
    INDArray hard = Nd4j.zeros(DataType.DOUBLE, BATCH, CLASSES);
    for (int i = 0; i < BATCH; i++) {
      hard.putScalar(i, (i * 3) % CLASSES, 1.0);
    }
    return Nd4j.hstack(soft, hard);
  }

  @ParameterizedTest
  @CsvSource({"0.9, 2.0, identity", "0.0, 1.0, identity", "1.0, 4.0, identity", "0.5, 0.5, identity",
      "0.7, 3.0, tanh"})
  void analyticGradientMatchesFiniteDifferences(double alpha, double temperature, String activation) {
    Nd4j.getRandom().setSeed(11);
    KnowledgeDistillationLoss loss = new KnowledgeDistillationLoss(alpha, temperature);
    var act = activation.equals("tanh") ? new ActivationTanH() : new ActivationIdentity();
    INDArray labels = labels();
    INDArray pre = Nd4j.randn(DataType.DOUBLE, BATCH, CLASSES).muli(1.5);
    INDArray grad = loss.computeGradient(labels, pre, act, null);
    double h = 1e-6;
    for (int i = 0; i < BATCH; i++) {
      for (int j = 0; j < CLASSES; j++) {
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
  void softTermIsZeroExactlyWhenTheStudentMatchesTheSoftenedTeacher() {
    double t = 2.0;
    INDArray z = Nd4j.createFromArray(new double[][] {{1.0, -0.5, 2.0}});
    INDArray p = Transforms.softmax(z.div(t), true);
    INDArray labels = Nd4j.hstack(p, Nd4j.createFromArray(new double[][] {{0, 0, 1}}));
    KnowledgeDistillationLoss softOnly = new KnowledgeDistillationLoss(1.0, t);
    assertEquals(0.0, softOnly.computeScore(labels, z, new ActivationIdentity(), null, true), 1e-9);
    assertTrue(softOnly.computeScore(labels, z.mul(-1), new ActivationIdentity(), null, true) > 0.1);
    // Hard only: cross-entropy of the labelled class.
    KnowledgeDistillationLoss hardOnly = new KnowledgeDistillationLoss(0.0, t);
    double expected = -Math.log(Transforms.softmax(z, true).getDouble(0, 2));
    assertEquals(expected, hardOnly.computeScore(labels, z, new ActivationIdentity(), null, true), 1e-9);
  }

  @Test
  void maskedExamplesContributeNothing() {
    KnowledgeDistillationLoss loss = new KnowledgeDistillationLoss(0.9, 2.0);
    INDArray labels = labels();
    INDArray pre = Nd4j.randn(DataType.DOUBLE, BATCH, CLASSES);
    INDArray mask = Nd4j.createFromArray(new double[][] {{1}, {0}, {1}, {1}});
    INDArray scores = loss.computeScoreArray(labels, pre, new ActivationIdentity(), mask);
    assertEquals(0.0, scores.getDouble(1, 0), 0.0);
    assertTrue(scores.getDouble(0, 0) > 0);
    INDArray grad = loss.computeGradient(labels, pre, new ActivationIdentity(), mask);
    assertEquals(0.0, grad.getRow(1).norm2Number().doubleValue(), 0.0);
  }

  @Test
  void rejectsLabelsOfTheWrongShape() {
    KnowledgeDistillationLoss loss = new KnowledgeDistillationLoss(0.9, 2.0);
    INDArray pre = Nd4j.randn(DataType.DOUBLE, BATCH, CLASSES);
    INDArray onlySoft = labels().get(NDArrayIndex.all(), NDArrayIndex.interval(0, CLASSES));
    var e = assertThrows(IllegalArgumentException.class,
        () -> loss.computeScore(onlySoft, pre, new ActivationIdentity(), null, true));
    assertTrue(e.getMessage().contains("[batch, 2C]"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new KnowledgeDistillationLoss(1.5, 2.0));
    assertThrows(IllegalArgumentException.class, () -> new KnowledgeDistillationLoss(0.5, 0));
  }

  @Test
  void survivesJsonRoundTripAsSparkShipsIt() {
    var conf = new NeuralNetConfiguration.Builder().list()
        .layer(new OutputLayer.Builder(new KnowledgeDistillationLoss(0.8, 3.0)).nIn(3).nOut(3).build())
        .build();
    var back = MultiLayerConfiguration.fromJson(conf.toJson());
    assertEquals(new KnowledgeDistillationLoss(0.8, 3.0), ((OutputLayer) back.getConf(0).getLayer()).getLossFn());
  }
}
