package io.distillery.student;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Adam;

class TopKDistillationLossTest {
  private static final int VOCAB = 9;
  private static final int K = 3;

  /** Compact labels of {@code n} positions: distinct random top-k ids with probabilities summing below 1. */
  private static float[][] compact(int n, Random random) {
    float[][] rows = new float[n][];
    for (int r = 0; r < n; r++) {
      int[] ids = random.ints(0, VOCAB).distinct().limit(K).toArray();
      float[] p = {0.5f + 0.2f * random.nextFloat(), 0.15f, 0.05f * random.nextFloat()};
      rows[r] = TopKDistillationLoss.label(ids, p, random.nextInt(VOCAB));
    }
    return rows;
  }

  /** The same labels in {@link KnowledgeDistillationLoss}'s dense layout: p at T, then one-hot. */
  private static INDArray dense(float[][] compact, double temperature) {
    double[][] out = new double[compact.length][2 * VOCAB];
    for (int r = 0; r < compact.length; r++) {
      int[] ids = new int[K];
      double[] p = new double[K];
      for (int i = 0; i < K; i++) {
        ids[i] = (int) compact[r][i];
        p[i] = compact[r][K + i];
      }
      float[] soft = SoftTargets.of(ids, p, VOCAB, temperature);
      for (int c = 0; c < VOCAB; c++) {
        out[r][c] = soft[c];
      }
      out[r][VOCAB + (int) compact[r][2 * K]] = 1;
    }
    return Nd4j.createFromArray(out);
  }

  @ParameterizedTest
  @CsvSource({"0.9, 2.0", "0.0, 1.0", "1.0, 1.0", "0.5, 0.7"})
  void isKnowledgeDistillationOnTheExpandedTargets(double alpha, double temperature) {
    float[][] compact = compact(6, new Random(3));
    INDArray labels = Nd4j.createFromArray(compact).castTo(DataType.DOUBLE);
    INDArray pre = Nd4j.rand(DataType.DOUBLE, 6, VOCAB).subi(0.5).muli(4);
    var identity = new ActivationIdentity();
    TopKDistillationLoss topK = new TopKDistillationLoss(alpha, temperature);
    KnowledgeDistillationLoss kd = new KnowledgeDistillationLoss(alpha, temperature);
    INDArray expanded = dense(compact, temperature);
    assertArrayEquals(kd.computeScoreArray(expanded, pre, identity, null).toDoubleVector(),
        topK.computeScoreArray(labels, pre, identity, null).toDoubleVector(), 1e-6);
    assertArrayEquals(kd.computeGradient(expanded, pre, identity, null).toDoubleMatrix()[2],
        topK.computeGradient(labels, pre, identity, null).toDoubleMatrix()[2], 1e-6);
  }

  @Test
  void analyticGradientMatchesFiniteDifferences() {
    INDArray labels = Nd4j.createFromArray(compact(4, new Random(5))).castTo(DataType.DOUBLE);
    INDArray pre = Nd4j.rand(DataType.DOUBLE, 4, VOCAB).subi(0.5).muli(3);
    var identity = new ActivationIdentity();
    TopKDistillationLoss loss = new TopKDistillationLoss(0.8, 1.5);
    INDArray grad = loss.computeGradient(labels, pre, identity, null);
    double h = 1e-6;
    for (int i = 0; i < 4; i++) {
      for (int j = 0; j < VOCAB; j++) {
        INDArray plus = pre.dup();
        plus.putScalar(i, j, pre.getDouble(i, j) + h);
        INDArray minus = pre.dup();
        minus.putScalar(i, j, pre.getDouble(i, j) - h);
        double numeric = (loss.computeScore(labels, plus, identity, null, false)
            - loss.computeScore(labels, minus, identity, null, false)) / (2 * h);
        assertEquals(numeric, grad.getDouble(i, j), 1e-5, "d/d pre[" + i + "," + j + "]");
      }
    }
  }

  @Test
  void paddingScoresNothingAndHasNoGradient() {
    float[][] compact = compact(3, new Random(7));
    compact[1] = TopKDistillationLoss.padding(K);
    INDArray labels = Nd4j.createFromArray(compact);
    INDArray pre = Nd4j.rand(DataType.FLOAT, 3, VOCAB);
    TopKDistillationLoss loss = new TopKDistillationLoss(0.9, 2.0);
    double[] scores = loss.computeScoreArray(labels, pre, new ActivationIdentity(), null).toDoubleVector();
    assertEquals(0.0, scores[1]);
    assertTrue(scores[0] > 0 && scores[2] > 0);
    assertEquals(0.0, loss.computeGradient(labels, pre, new ActivationIdentity(), null).getRow(1).norm1Number()
        .doubleValue());
  }

  @Test
  void anIdOutsideTheVocabularyIsAnError() {
    float[][] compact = {TopKDistillationLoss.label(new int[] {1, 2, VOCAB}, new float[] {0.5f, 0.2f, 0.1f}, 1)};
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new TopKDistillationLoss(0.9, 1)
        .computeScoreArray(Nd4j.createFromArray(compact), Nd4j.zeros(DataType.FLOAT, 1, VOCAB),
            new ActivationIdentity(), null));
    assertTrue(e.getMessage().contains("not in the student's vocabulary of " + VOCAB), e.getMessage());
  }

  /** A sequence model reads labels [batch, 2k + 1, time] though it outputs [batch, V, time], and learns from them. */
  @Test
  void aRecurrentStudentLearnsFromCompactSequenceLabels() {
    MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(1).updater(new Adam(0.05))
        .dataType(DataType.FLOAT).list()
        .layer(new EmbeddingSequenceLayer.Builder().nIn(VOCAB).nOut(8).outputDataFormat(RNNFormat.NCW).build())
        .layer(new LSTM.Builder().nIn(8).nOut(16).activation(Activation.TANH).dataFormat(RNNFormat.NCW).build())
        .layer(new RnnOutputLayer.Builder(new TopKDistillationLoss(0.5, 1.0)).nIn(16).nOut(VOCAB)
            .activation(Activation.IDENTITY).dataFormat(RNNFormat.NCW).build())
        .build();
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init();
    // The sequence 0 1 2 ... cycling: the next token is the current one plus 1; the last step is padding.
    int steps = 6;
    float[][][] labels = new float[2][2 * K + 1][steps];
    float[][] features = new float[2][steps];
    float[][] labelMask = new float[2][steps];
    for (int b = 0; b < 2; b++) {
      for (int t = 0; t < steps; t++) {
        int token = (b + t) % VOCAB;
        features[b][t] = token;
        int next = (token + 1) % VOCAB;
        float[] label = t == steps - 1 ? TopKDistillationLoss.padding(K) : TopKDistillationLoss.label(
            new int[] {next, (next + 1) % VOCAB, (next + 2) % VOCAB}, new float[] {0.8f, 0.1f, 0.05f}, next);
        for (int c = 0; c < label.length; c++) {
          labels[b][c][t] = label[c];
        }
        labelMask[b][t] = t == steps - 1 ? 0 : 1;
      }
    }
    DataSet data = new DataSet(Nd4j.createFromArray(features), Nd4j.createFromArray(labels), null,
        Nd4j.createFromArray(labelMask));
    double before = net.score(data);
    for (int i = 0; i < 60; i++) {
      net.fit(data);
    }
    double after = net.score(data);
    assertTrue(after < before / 2, "score " + before + " -> " + after);
    INDArray out = net.output(data.getFeatures());
    assertArrayEquals(new long[] {2, VOCAB, steps}, out.shape());
    assertEquals(2, out.get(NDArrayIndex.point(0),
        NDArrayIndex.all(), NDArrayIndex.point(1)).argMax()
        .getInt(0), "after token 1 the student predicts 2");
  }
}
