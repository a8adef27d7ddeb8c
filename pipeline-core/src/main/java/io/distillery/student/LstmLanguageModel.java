package io.distillery.student;

import io.distillery.settings.Settings;
import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Adam;

/**
 * The language-model student: a token vector of {@code student.width} per vocabulary entry, one LSTM layer of
 * {@code student.hidden} units, and logits over the vocabulary, trained with {@link TopKDistillationLoss} on the
 * teacher's top k per position. The output layer's activation is identity (the loss and {@link LmStudentModel}
 * apply the softmax). An LSTM rather than a small transformer because DL4J trains it on Spark as it is, and at this
 * size its step is a few matrix-vector products a token.
 */
public final class LstmLanguageModel {
  /** Per-element gradient clipping: an LSTM's gradients occasionally spike on long sequences. */
  private static final double CLIP = 5.0;

  private LstmLanguageModel() {}

  public static MultiLayerConfiguration configuration(Settings.Student student, Settings.Train train,
      LmInputs inputs) {
    if (student.hidden() < 1) {
      throw new IllegalArgumentException(Settings.Student.HIDDEN.path() + " must be >= 1 for a language model "
          + "(the LSTM's units), was " + student.hidden());
    }
    return new NeuralNetConfiguration.Builder()
        .seed(train.seed())
        .dataType(DataType.FLOAT)
        .updater(new Adam(train.learningRate()))
        .weightInit(WeightInit.XAVIER)
        .gradientNormalization(GradientNormalization.ClipElementWiseAbsoluteValue)
        .gradientNormalizationThreshold(CLIP)
        .list()
        .layer(new EmbeddingSequenceLayer.Builder().nIn(inputs.vocabSize()).nOut(student.width()).hasBias(false)
            .inputLength(inputs.maxTokens()).outputDataFormat(RNNFormat.NCW).build())
        .layer(new LSTM.Builder().nIn(student.width()).nOut(student.hidden()).activation(Activation.TANH)
            .dataFormat(RNNFormat.NCW).build())
        .layer(new RnnOutputLayer.Builder(new TopKDistillationLoss(train.loss().softLabelWeight(),
                train.loss().temperature()))
            .nIn(student.hidden()).nOut(inputs.vocabSize()).activation(Activation.IDENTITY)
            .dataFormat(RNNFormat.NCW).build())
        .build();
  }
}
