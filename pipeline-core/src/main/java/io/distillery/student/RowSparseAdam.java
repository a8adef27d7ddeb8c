package io.distillery.student;

import io.distillery.settings.Settings;
import java.util.Map;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scatter.ScatterUpdate;
import org.nd4j.linalg.api.ops.impl.updaters.AdamUpdater;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Adam for an embedding table that touches only the rows a minibatch has a gradient for ("lazy" Adam, as
 * TensorFlow's LazyAdam): their moments and update follow Adam exactly (DL4J's {@code Adam} on the same rows: the
 * tests compare them), the other rows keep their moments and do not move. A minibatch of the default student reads
 * a small part of its table, and DL4J's dense Adam decays and applies every row's moments every step (what that costs:
 * bench/train-step.sh). Rows are {@code width} consecutive parameters (a row-major table, {@link EmbeddingBagLayer}).
 * Immutable and Jackson-serializable (Spark ships the network configuration as JSON).
 */
public final class RowSparseAdam implements IUpdater {
  // Adam's own defaults, as the rest of the network's Adam (EmbeddingBag) uses them.
  private static final double BETA1 = Adam.DEFAULT_ADAM_BETA1_MEAN_DECAY;
  private static final double BETA2 = Adam.DEFAULT_ADAM_BETA2_VAR_DECAY;
  private static final double EPSILON = Adam.DEFAULT_ADAM_EPSILON;

  @JsonProperty("learningRate")
  private final double learningRate;
  @JsonProperty("width")
  private final int width;

  @JsonCreator
  public RowSparseAdam(@JsonProperty("learningRate") double learningRate, @JsonProperty("width") int width) {
    if (!(learningRate > 0) || width < 1) {
      throw new IllegalArgumentException("RowSparseAdam needs learningRate > 0 and width >= 1, got " + learningRate
          + " and " + width);
    }
    this.learningRate = learningRate;
    this.width = width;
  }

  @Override
  public long stateSize(long numParams) {
    return 2 * numParams;
  }

  @Override
  public GradientUpdater instantiate(INDArray viewArray, boolean initializeViewArray) {
    Updater updater = new Updater(this);
    updater.setStateViewArray(viewArray, null, 'c', initializeViewArray);
    return updater;
  }

  @Override
  public GradientUpdater instantiate(Map<String, INDArray> updaterState, boolean initializeStateArrays) {
    Updater updater = new Updater(this);
    updater.setState(updaterState, initializeStateArrays);
    return updater;
  }

  @Override
  public IUpdater clone() {
    return this; // immutable
  }

  @Override
  public double getLearningRate(int iteration, int epoch) {
    return learningRate;
  }

  @Override
  public boolean hasLearningRate() {
    return true;
  }

  @Override
  public void setLrAndSchedule(double lr, ISchedule lrSchedule) {
    throw new UnsupportedOperationException("RowSparseAdam is immutable: build the network with the learning rate "
        + "it should have (" + Settings.Train.LEARNING_RATE.full() + ").");
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RowSparseAdam a && a.learningRate == learningRate && a.width == width;
  }

  @Override
  public int hashCode() {
    return Double.hashCode(learningRate) * 31 + width;
  }

  @Override
  public String toString() {
    return "RowSparseAdam(learningRate=" + learningRate + ", width=" + width + ")";
  }

  /** The state: first and second moments, each as many values as the table, in the table's row-major layout. */
  static final class Updater implements GradientUpdater<RowSparseAdam> {
    private final RowSparseAdam config;
    private INDArray m;
    private INDArray v;

    Updater(RowSparseAdam config) {
      this.config = config;
    }

    @Override
    public RowSparseAdam getConfig() {
      return config;
    }

    @Override
    public void setState(Map<String, INDArray> state, boolean initialize) {
      if (!state.containsKey("M") || !state.containsKey("V") || state.size() != 2) {
        throw new IllegalStateException("RowSparseAdam state needs exactly M and V, got " + state.keySet());
      }
      this.m = state.get("M");
      this.v = state.get("V");
      if (initialize) {
        m.assign(0);
        v.assign(0);
      }
    }

    @Override
    public Map<String, INDArray> getState() {
      return Map.of("M", m, "V", v);
    }

    @Override
    public void setStateViewArray(INDArray viewArray, long[] gradientShape, char gradientOrder, boolean initialize) {
      if (initialize) {
        viewArray.assign(0);
      }
      long half = viewArray.length() / 2;
      INDArray flat = viewArray.reshape(viewArray.length());
      this.m = flat.get(NDArrayIndex.interval(0, half));
      this.v = flat.get(NDArrayIndex.interval(half, 2 * half));
    }

    @Override
    public void applyUpdater(INDArray gradient, int iteration, int epoch) {
      int width = config.width;
      long rows = gradient.length() / width;
      if (rows * width != gradient.length() || m == null) {
        throw new IllegalStateException("RowSparseAdam: a gradient of " + gradient.length() + " values is not rows "
            + "of " + width + ", or the state is not set");
      }
      INDArray g = gradient.reshape('c', rows, width);
      float[] magnitude = g.amax(1).toFloatVector();
      int[] touched = IntStream.range(0, (int) rows).filter(r -> magnitude[r] > 0).toArray();
      if (touched.length == 0) {
        return; // all zero: the update is the gradient itself
      }
      INDArray mRows = m.reshape('c', rows, width);
      INDArray vRows = v.reshape('c', rows, width);
      INDArray indices = Nd4j.createFromArray(touched);
      // The touched rows' gradient, moments: ND4J's fused Adam turns them into the update and the new moments.
      INDArray update = Nd4j.pullRows(g, 1, touched);
      INDArray first = Nd4j.pullRows(mRows, 1, touched);
      INDArray second = Nd4j.pullRows(vRows, 1, touched);
      Nd4j.exec(new AdamUpdater(update, second, first, config.learningRate, BETA1, BETA2, EPSILON, iteration));
      Nd4j.scatterUpdate(ScatterUpdate.UpdateOp.ASSIGN, mRows, indices, first, 1);
      Nd4j.scatterUpdate(ScatterUpdate.UpdateOp.ASSIGN, vRows, indices, second, 1);
      Nd4j.scatterUpdate(ScatterUpdate.UpdateOp.ASSIGN, g, indices, update, 1);
    }
  }
}
