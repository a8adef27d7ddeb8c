package io.distillery.student;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Adam;

/**
 * The embed student as it was built before {@link EmbeddingBagLayer}: DL4J's sequence embedding, a separate average
 * pooling layer, the residual head, the projection; dense Adam throughout. For the compatibility test and the
 * training-step benchmark.
 */
public final class EarlierLayoutStudent {
  private EarlierLayoutStudent() {}

  public static MultiLayerNetwork network(int rows, int dim, int hidden, int length, long seed, double learningRate) {
    MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
        .seed(seed).dataType(DataType.FLOAT).updater(new Adam(learningRate)).weightInit(WeightInit.XAVIER).list()
        .layer(new EmbeddingSequenceLayer.Builder().nIn(rows).nOut(dim).inputLength(length).hasBias(false)
            .weightInit(WeightInit.NORMAL).build())
        .layer(new GlobalPoolingLayer.Builder(PoolingType.AVG).collapseDimensions(true).build())
        .layer(new DenseLayer.Builder().nIn(dim).nOut(dim + hidden).activation(new PartialReluActivation(dim)).build())
        .layer(new OutputLayer.Builder(new CosineMseLoss(1, 0)).nIn(dim + hidden).nOut(dim)
            .activation(Activation.IDENTITY).build())
        .build());
    net.init();
    return net;
  }
}
