package io.distillery.student;

import io.distillery.settings.Settings;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Adam;

/**
 * The default embedding student: a static embedding per token of the teacher's vocabulary, mean-pooled over
 * the sentence, projected linearly to the teacher's dimension. Trained on cosine (and/or MSE) to the teacher.
 */
public final class StaticEmbeddingStudent {
  private StaticEmbeddingStudent() {}

  public static MultiLayerConfiguration configuration(Settings.Student student, Settings.Train train,
      int vocabularySize, int teacherDimension) {
    return new NeuralNetConfiguration.Builder()
        .seed(train.seed())
        .dataType(DataType.FLOAT)
        .updater(new Adam(train.learningRate()))
        .weightInit(WeightInit.XAVIER)
        .list()
        .layer(new EmbeddingSequenceLayer.Builder()
            .nIn(vocabularySize)
            .nOut(student.width())
            .inputLength(student.maxTokens())
            .hasBias(false)
            .weightInit(WeightInit.NORMAL)
            .build())
        .layer(new GlobalPoolingLayer.Builder(PoolingType.AVG).collapseDimensions(true).build())
        .layer(new OutputLayer.Builder(new CosineMseLoss(train.loss().cosineWeight(), train.loss().mseWeight()))
            .nIn(student.width())
            .nOut(teacherDimension)
            .activation(Activation.IDENTITY)
            .build())
        .build();
  }
}
