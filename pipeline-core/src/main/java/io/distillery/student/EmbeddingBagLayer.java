package io.distillery.student;

import java.util.Arrays;
import java.util.Collection;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.MaskState;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.BaseLayer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scatter.ScatterUpdate;
import org.nd4j.linalg.factory.Nd4j;

/**
 * An embedding bag as one DL4J layer: input [n, length] of row ids (as floats) with a features mask [n, length];
 * output [n, width], the mean of the table rows of each example's unmasked ids. The same function as DL4J's
 * {@code EmbeddingSequenceLayer} followed by an average {@code GlobalPoolingLayer} (the tests compare them,
 * gradients included), computed on the ids an example has rather than on all {@code length} padded positions: the
 * rows a minibatch uses are gathered once and pooled by one matrix product with the examples' averaging weights,
 * and the backward pass scatters one gradient row per distinct id. The sequence pair builds, masks, permutes and
 * copies [n, width, length] tensors both ways, which dominated a training step of the default student.
 *
 * <p>The configuration extends {@code EmbeddingSequenceLayer}'s only for its parameters (a weight table, no bias,
 * as DL4J's parameter initializer knows it); it is a plain bean so the network's JSON round-trips (Spark ships it).
 */
public class EmbeddingBagLayer extends EmbeddingSequenceLayer {

  /** For JSON (DL4J's configuration mapper). */
  public EmbeddingBagLayer() {}

  /** A table of {@code rows} x {@code width}, normally initialised, read {@code length} ids at a time. */
  public static EmbeddingBagLayer of(int rows, int width, int length) {
    EmbeddingBagLayer layer = new EmbeddingBagLayer();
    layer.setNIn(rows);
    layer.setNOut(width);
    layer.setInputLength(length);
    layer.setHasBias(false);
    layer.setWeightInitFn(WeightInit.NORMAL.getWeightInitFunction());
    return layer;
  }

  @Override
  public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> listeners, int index,
      INDArray paramsView, boolean initializeParams, DataType dataType) {
    Impl layer = new Impl(conf, dataType);
    layer.setListeners(listeners);
    layer.setIndex(index);
    layer.setParamsViewArray(paramsView);
    Map<String, INDArray> params = initializer().init(conf, paramsView, initializeParams);
    layer.setParamTable(params);
    layer.setConf(conf);
    return layer;
  }

  @Override
  public InputType getOutputType(int layerIndex, InputType inputType) {
    return InputType.feedForward(getNOut());
  }

  @Override
  public InputPreProcessor getPreProcessorForInputType(InputType inputType) {
    return null;
  }

  @Override
  public void setNIn(InputType inputType, boolean override) {
    // nIn is the number of table rows, not the input's width (the ids per example): set explicitly.
  }

  /**
   * Which table rows a minibatch uses and how much each counts: row {@code rows[j]} weighs {@code weights[i * u + j]}
   * in example i's mean (u = rows.length; an example without ids weighs nothing and pools to zero).
   */
  record Bag(int[] rows, float[] weights, int examples) {
    static Bag of(INDArray input, INDArray mask, long tableRows) {
      float[][] ids = input.toFloatMatrix();
      float[][] on = mask == null ? null : mask.toFloatMatrix();
      int n = ids.length;
      int[] used = new int[n * (n == 0 ? 0 : ids[0].length)];
      int count = 0;
      for (int i = 0; i < n; i++) {
        for (int t = 0; t < ids[i].length; t++) {
          if (on == null || on[i][t] != 0) {
            used[count++] = row(ids[i][t], tableRows, i, t);
          }
        }
      }
      int[] rows = Arrays.stream(used, 0, count).distinct().sorted().toArray();
      float[] weights = new float[n * rows.length];
      for (int i = 0; i < n; i++) {
        int length = 0;
        for (int t = 0; t < ids[i].length; t++) {
          length += on == null || on[i][t] != 0 ? 1 : 0;
        }
        for (int t = 0; t < ids[i].length; t++) {
          if (on == null || on[i][t] != 0) {
            weights[i * rows.length + Arrays.binarySearch(rows, (int) ids[i][t])] += 1f / length;
          }
        }
      }
      return new Bag(rows, weights, n);
    }

    private static int row(float id, long tableRows, int example, int position) {
      if (id < 0 || id >= tableRows || id != Math.rint(id)) {
        throw new IllegalArgumentException("Embedding bag input " + id + " at example " + example + ", position "
            + position + " is not a row id in [0, " + (tableRows - 1) + "]");
      }
      return (int) id;
    }

    /** The averaging weights as an [examples, rows] matrix. */
    INDArray matrix(DataType type) {
      return Nd4j.create(weights, new long[] {examples, rows.length}, 'c').castTo(type);
    }
  }

  /** The layer itself. */
  public static final class Impl extends BaseLayer<EmbeddingBagLayer> {
    private transient Bag bag;

    Impl(NeuralNetConfiguration conf, DataType dataType) {
      super(conf, dataType);
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
      assertInputSet(false);
      INDArray table = getParam(DefaultParamInitializer.WEIGHT_KEY);
      bag = Bag.of(input, maskArray, table.size(0));
      INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, table.dataType(),
          new long[] {bag.examples(), table.size(1)}, 'c');
      if (bag.rows().length == 0) {
        return out.assign(0);
      }
      return bag.matrix(table.dataType()).mmuli(Nd4j.pullRows(table, 1, bag.rows()), out);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
      assertInputSet(true);
      INDArray table = getParam(DefaultParamInitializer.WEIGHT_KEY);
      Bag b = bag != null ? bag : Bag.of(input, maskArray, table.size(0));
      INDArray tableGradient = gradientViews.get(DefaultParamInitializer.WEIGHT_KEY);
      tableGradient.assign(0);
      if (b.rows().length > 0) {
        // Each distinct row once: d(row j) = sum over examples of weight(i, j) * epsilon(i).
        INDArray rowGradients = b.matrix(epsilon.dataType()).transpose().mmul(epsilon);
        Nd4j.scatterUpdate(ScatterUpdate.UpdateOp.ADD, tableGradient, Nd4j.createFromArray(b.rows()), rowGradients,
            1);
      }
      Gradient gradient = new DefaultGradient();
      gradient.gradientForVariable().put(DefaultParamInitializer.WEIGHT_KEY, tableGradient);
      return new Pair<>(gradient, null); // the ids have no gradient
    }

    @Override
    public Pair<INDArray, MaskState> feedForwardMaskArray(INDArray mask, MaskState state, int minibatchSize) {
      setMaskArray(mask);
      return null; // pooled: the layers above see one vector per example
    }

    @Override
    public boolean isPretrainLayer() {
      return false;
    }

    @Override
    public boolean hasBias() {
      return false;
    }

    @Override
    public Type type() {
      return Type.FEED_FORWARD;
    }

    @Override
    public void clear() {
      super.clear();
      bag = null;
    }
  }
}
