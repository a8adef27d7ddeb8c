package io.distillery.student;

import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.MaskState;
import org.deeplearning4j.nn.api.ParamInitializer;
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
import org.nd4j.linalg.api.ops.impl.transforms.segment.UnsortedSegmentSum;
import org.nd4j.linalg.factory.Nd4j;

/**
 * An embedding bag as one DL4J layer: input [n, length] of row ids (as floats) with a features mask [n, length];
 * output [n, width], the mean of the table rows of each example's unmasked ids. The same function as DL4J's
 * {@code EmbeddingSequenceLayer} followed by an average {@code GlobalPoolingLayer} (the tests compare them,
 * gradients included), computed on the ids an example has rather than on all {@code length} padded positions: the
 * forward pass gathers each id's row, weighted by 1 / the example's length, and sums them per example; the backward
 * pass scatters each example's gradient, so weighted, back onto its ids' rows. The sequence pair builds, masks, permutes and
 * copies [n, width, length] tensors both ways, which dominated a training step of the default student.
 *
 * <p>The configuration extends {@code EmbeddingSequenceLayer}'s for its settings (rows, width, input length, no
 * bias); it is a plain bean so the network's JSON round-trips (Spark ships it). The table is laid out row-major
 * ({@link RowMajorTable}).
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
  public ParamInitializer initializer() {
    return RowMajorTable.INSTANCE;
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
   * The ids a minibatch reads, example after example: occurrence k is table row {@code ids[k]} of example
   * {@code examples[k]}, and counts {@code weights[k]} (1 / that example's number of ids) in its mean. An example
   * without ids pools to zero.
   */
  record Bag(int[] ids, int[] examples, float[] weights, int size) {
    static Bag of(INDArray input, INDArray mask, long tableRows) {
      float[][] values = input.toFloatMatrix();
      float[][] on = mask == null ? null : mask.toFloatMatrix();
      int n = values.length;
      int capacity = n == 0 ? 0 : n * values[0].length;
      int[] ids = new int[capacity];
      int[] examples = new int[capacity];
      float[] weights = new float[capacity];
      int k = 0;
      for (int i = 0; i < n; i++) {
        int first = k;
        for (int t = 0; t < values[i].length; t++) {
          if (on == null || on[i][t] != 0) {
            ids[k] = row(values[i][t], tableRows, i, t);
            examples[k++] = i;
          }
        }
        Arrays.fill(weights, first, k, 1f / Math.max(1, k - first));
      }
      return new Bag(Arrays.copyOf(ids, k), Arrays.copyOf(examples, k),
          Arrays.copyOf(weights, k), n);
    }

    private static int row(float id, long tableRows, int example, int position) {
      if (id < 0 || id >= tableRows || id != Math.rint(id)) {
        throw new IllegalArgumentException("Embedding bag input " + id + " at example " + example + ", position "
            + position + " is not a row id in [0, " + (tableRows - 1) + "]");
      }
      return (int) id;
    }

    /** The occurrences' weights as a column [occurrences, 1]. */
    INDArray weightColumn(DataType type) {
      return Nd4j.create(weights, new long[] {weights.length, 1}, 'c').castTo(type);
    }
  }

  /**
   * The table's one parameter, {@code W} [rows, width], laid out row after row (DL4J lays weights out column after
   * column): a row the bag gathers, and its gradient row the bag scatters, are contiguous.
   */
  static final class RowMajorTable implements ParamInitializer {
    static final RowMajorTable INSTANCE = new RowMajorTable();
    private static final List<String> KEYS = List.of(DefaultParamInitializer.WEIGHT_KEY);

    @Override
    public long numParams(NeuralNetConfiguration conf) {
      return numParams(conf.getLayer());
    }

    @Override
    public long numParams(org.deeplearning4j.nn.conf.layers.Layer layer) {
      EmbeddingBagLayer bag = (EmbeddingBagLayer) layer;
      return bag.getNIn() * bag.getNOut();
    }

    @Override
    public List<String> paramKeys(org.deeplearning4j.nn.conf.layers.Layer layer) {
      return KEYS;
    }

    @Override
    public List<String> weightKeys(org.deeplearning4j.nn.conf.layers.Layer layer) {
      return KEYS;
    }

    @Override
    public List<String> biasKeys(org.deeplearning4j.nn.conf.layers.Layer layer) {
      return List.of();
    }

    @Override
    public boolean isWeightParam(org.deeplearning4j.nn.conf.layers.Layer layer, String key) {
      return KEYS.contains(key);
    }

    @Override
    public boolean isBiasParam(org.deeplearning4j.nn.conf.layers.Layer layer, String key) {
      return false;
    }

    @Override
    public Map<String, INDArray> init(NeuralNetConfiguration conf, INDArray paramsView, boolean initializeParams) {
      EmbeddingBagLayer bag = (EmbeddingBagLayer) conf.getLayer();
      long[] shape = {bag.getNIn(), bag.getNOut()};
      INDArray table = paramsView.reshape('c', shape);
      if (initializeParams) {
        bag.getWeightInitFn().init(bag.getNIn(), bag.getNOut(), shape, 'c', table);
      }
      return Map.of(DefaultParamInitializer.WEIGHT_KEY, table);
    }

    @Override
    public Map<String, INDArray> getGradientsFromFlattened(NeuralNetConfiguration conf, INDArray gradientView) {
      EmbeddingBagLayer bag = (EmbeddingBagLayer) conf.getLayer();
      return Map.of(DefaultParamInitializer.WEIGHT_KEY, gradientView.reshape('c', bag.getNIn(), bag.getNOut()));
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
          new long[] {bag.size(), table.size(1)}, 'c');
      if (bag.ids().length == 0) {
        return out.assign(0);
      }
      // Each occurrence's row, weighted, summed per example.
      INDArray weighted = Nd4j.pullRows(table, 1, bag.ids()).muliColumnVector(bag.weightColumn(table.dataType()));
      return out.assign(Nd4j.exec(new UnsortedSegmentSum(weighted, Nd4j.createFromArray(bag.examples()),
          bag.size()))[0]);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
      assertInputSet(true);
      INDArray table = getParam(DefaultParamInitializer.WEIGHT_KEY);
      Bag b = bag != null ? bag : Bag.of(input, maskArray, table.size(0));
      INDArray tableGradient = gradientViews.get(DefaultParamInitializer.WEIGHT_KEY);
      tableGradient.assign(0);
      if (b.ids().length > 0) {
        // Occurrence k adds weight(k) * epsilon(its example) to its row (repeated rows accumulate).
        INDArray perOccurrence = Nd4j.pullRows(epsilon, 1, b.examples())
            .muliColumnVector(b.weightColumn(epsilon.dataType()));
        Nd4j.scatterUpdate(ScatterUpdate.UpdateOp.ADD, tableGradient, Nd4j.createFromArray(b.ids()), perOccurrence,
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
