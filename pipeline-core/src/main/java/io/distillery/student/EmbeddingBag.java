package io.distillery.student;

import io.distillery.settings.Settings;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Adam;

/**
 * The first two layers every Distillery student starts with: a table of {@code rows} vectors of {@code width}
 * (layer 0), looked up for each input id and mean-pooled over the unmasked ids (layer 1). The students add their
 * heads on top.
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
        .layer(new EmbeddingSequenceLayer.Builder()
            .nIn(rows)
            .nOut(width)
            .inputLength(inputLength)
            .hasBias(false)
            .weightInit(WeightInit.NORMAL)
            .build())
        .layer(new GlobalPoolingLayer.Builder(PoolingType.AVG).collapseDimensions(true).build());
  }
}
