package io.distillery.student;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.distillery.TestSettings;
import io.distillery.settings.Settings;
import java.util.Map;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.Adam;

class RowSparseAdamTest {
  private static final int ROWS = 6;
  private static final int WIDTH = 4;
  private static final double LR = 0.01;

  private static GradientUpdater<?> adam(INDArray state) {
    return new Adam(LR).instantiate(state, true);
  }

  @Test
  void onRowsThatAllHaveAGradientItIsAdam() {
    INDArray lazyState = Nd4j.create(DataType.FLOAT, 1, 2L * ROWS * WIDTH);
    INDArray denseState = Nd4j.create(DataType.FLOAT, 1, 2L * ROWS * WIDTH);
    GradientUpdater<?> lazy = new RowSparseAdam(LR, WIDTH).instantiate(lazyState, true);
    GradientUpdater<?> dense = adam(denseState);
    for (int iteration = 0; iteration < 4; iteration++) {
      INDArray gradient = Nd4j.rand(DataType.FLOAT, 1, ROWS * WIDTH).subi(0.5);
      INDArray lazyUpdate = gradient.dup();
      INDArray denseUpdate = gradient.dup();
      lazy.applyUpdater(lazyUpdate, iteration, 0);
      dense.applyUpdater(denseUpdate, iteration, 0);
      assertTrue(denseUpdate.equalsWithEps(lazyUpdate, 1e-6), "iteration " + iteration + ": " + denseUpdate + " vs "
          + lazyUpdate);
      assertTrue(lazyUpdate.neq(gradient).any(), "the update must differ from the gradient");
    }
    assertTrue(denseState.equalsWithEps(lazyState, 1e-6), "moments differ");
  }

  @Test
  void rowsWithoutAGradientKeepTheirMomentsAndDoNotMove() {
    INDArray lazyState = Nd4j.create(DataType.FLOAT, 1, 2L * ROWS * WIDTH);
    GradientUpdater<?> lazy = new RowSparseAdam(LR, WIDTH).instantiate(lazyState, true);
    // Step 0 touches every row; step 1 only rows 1 and 4.
    INDArray all = Nd4j.rand(DataType.FLOAT, 1, ROWS * WIDTH).addi(0.1);
    lazy.applyUpdater(all.dup(), 0, 0);
    INDArray before = lazyState.dup();
    INDArray gradient = Nd4j.zeros(DataType.FLOAT, ROWS, WIDTH);
    gradient.getRow(1).assign(Nd4j.rand(DataType.FLOAT, WIDTH));
    gradient.getRow(4).assign(Nd4j.rand(DataType.FLOAT, WIDTH).negi());
    INDArray update = gradient.reshape(1, ROWS * WIDTH).dup();
    lazy.applyUpdater(update, 1, 0);

    // The touched rows move as Adam moves them, from their own moments.
    INDArray subState = Nd4j.create(DataType.FLOAT, 1, 2L * 2 * WIDTH);
    GradientUpdater<?> dense = adam(subState);
    INDArray firstStep = Nd4j.vstack(all.reshape(ROWS, WIDTH).getRow(1), all.reshape(ROWS, WIDTH).getRow(4))
        .reshape(1, 2 * WIDTH).dup();
    dense.applyUpdater(firstStep, 0, 0);
    INDArray secondStep = Nd4j.vstack(gradient.getRow(1), gradient.getRow(4)).reshape(1, 2 * WIDTH).dup();
    dense.applyUpdater(secondStep, 1, 0);
    INDArray rows = update.reshape(ROWS, WIDTH);
    assertTrue(secondStep.reshape(2, WIDTH).getRow(0).equalsWithEps(rows.getRow(1), 1e-6));
    assertTrue(secondStep.reshape(2, WIDTH).getRow(1).equalsWithEps(rows.getRow(4), 1e-6));
    for (int r : new int[] {0, 2, 3, 5}) {
      assertEquals(0, rows.getRow(r).norm2Number().doubleValue(), "row " + r + " moved");
      for (int half = 0; half < 2; half++) {
        long from = half * (long) ROWS * WIDTH + (long) r * WIDTH;
        var index = new INDArrayIndex[] {NDArrayIndex.point(0),
            NDArrayIndex.interval(from, from + WIDTH)};
        assertEquals(before.get(index), lazyState.get(index), "row " + r + " moment " + half + " changed");
      }
    }
    assertTrue(lazyState.neq(before).any(), "the touched rows' moments must change");
  }

  @Test
  void aStudentWithLazyTableUpdatesRoundTripsAsJsonAndTrains() {
    Settings s = TestSettings.withOverrides(Map.of("distillery.student.width", "8",
        "distillery.student.init", "random", "distillery.student.hidden", "0"));
    assertTrue(s.train().lazyTableUpdates(), "lazy is the default");
    MultiLayerConfiguration conf = StaticEmbeddingStudent.configuration(s.student(), s.train(), 20, 3);
    MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(conf.toJson());
    assertEquals(conf, back);
    assertEquals(new RowSparseAdam(s.train().learningRate(), 8),
        ((EmbeddingBagLayer) back.getConf(0).getLayer()).getIUpdater());
    MultiLayerNetwork net = new MultiLayerNetwork(back);
    net.init();
    INDArray mask = Nd4j.createFromArray(new float[][] {{1, 1, 0}, {1, 1, 0}});
    net.fit(new DataSet(Nd4j.createFromArray(new float[][] {{1, 2, 0}, {3, 3, 0}}),
        Nd4j.rand(DataType.FLOAT, 2, 3), mask, null));
    // The second step reads rows 5 and 6 only: rows 1..3 have momentum from the first, which dense Adam would apply.
    INDArray table = net.getLayer(0).getParam("W").dup();
    net.fit(new DataSet(Nd4j.createFromArray(new float[][] {{5, 6, 0}, {6, 6, 0}}),
        Nd4j.rand(DataType.FLOAT, 2, 3), mask, null));
    INDArray moved = net.getLayer(0).getParam("W").sub(table);
    for (int r = 0; r < 20; r++) {
      boolean read = r == 5 || r == 6;
      assertEquals(read, moved.getRow(r).norm2Number().doubleValue() > 0, "row " + r);
    }
  }

  @Test
  void badSettingsAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> new RowSparseAdam(0, 4));
    assertThrows(IllegalArgumentException.class, () -> new RowSparseAdam(0.1, 0));
    assertThrows(UnsupportedOperationException.class, () -> new RowSparseAdam(0.1, 4).setLrAndSchedule(1, null));
  }
}
