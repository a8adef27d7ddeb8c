package io.distillery.student;

import io.distillery.settings.Settings;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.nd4j.linalg.activations.Activation;

/**
 * The default classify student (fastText-like): a vector per hashed character n-gram bucket, mean-pooled over
 * the text, an optional hidden ReLU layer, and logits over the teacher's labels. Trained with
 * {@link KnowledgeDistillationLoss}; the output layer's activation is identity (the loss and
 * {@link ClassifierModel} apply the softmax).
 */
public final class CharNgramClassifier {
  private CharNgramClassifier() {}

  public static MultiLayerConfiguration configuration(Settings.Student student, Settings.Train train,
      ClassifierInputs inputs) {
    var layers = EmbeddingBag.layers(train, inputs.ngrams().buckets(), student.width(), inputs.length());
    int in = student.width();
    if (student.hidden() > 0) {
      layers.layer(new DenseLayer.Builder().nIn(in).nOut(student.hidden()).activation(Activation.RELU).build());
      in = student.hidden();
    }
    return layers.layer(new OutputLayer.Builder(new KnowledgeDistillationLoss(train.loss().softLabelWeight(),
                train.loss().temperature()))
            .nIn(in)
            .nOut(inputs.labels().size())
            .activation(Activation.IDENTITY)
            .build())
        .build();
  }
}
