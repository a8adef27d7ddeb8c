package io.distillery.student;

import io.distillery.settings.Settings;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Adam;

/**
 * The first layer every Distillery student starts with: a table of {@code rows} vectors of {@code width}, looked up
 * for each input id and mean-pooled over the unmasked ids ({@link EmbeddingBagLayer}). The students add their heads
 * on top.
 */
final class EmbeddingBag {
  private EmbeddingBag() {}

  static NeuralNetConfiguration.ListBuilder layers(Settings.Train train, int rows, int width, int inputLength) {
    return new NeuralNetConfiguration.Builder()
        .seed(train.seed())
        .dataType(DataType.FLOAT)
        .updater(new Adam(train.learningRate()))
        .weightInit(WeightInit.XAVIER)
        .list()
        .layer(table(train, rows, width, inputLength));
  }

  private static EmbeddingBagLayer table(Settings.Train train, int rows, int width, int inputLength) {
    EmbeddingBagLayer table = EmbeddingBagLayer.of(rows, width, inputLength);
    if (train.lazyTableUpdates()) {
      table.setIUpdater(new RowSparseAdam(train.learningRate(), width));
    }
    return table;
  }

  /**
   * Index of the first layer after the bag: 1; 2 in a network saved before the bag was one layer (DL4J's sequence
   * embedding, then a separate average pooling layer), which still loads and folds the same.
   */
  static int headStart(MultiLayerNetwork net) {
    return net.getnLayers() > 1
        && net.getLayerWiseConfigurations().getConf(1).getLayer() instanceof GlobalPoolingLayer ? 2 : 1;
  }
}
