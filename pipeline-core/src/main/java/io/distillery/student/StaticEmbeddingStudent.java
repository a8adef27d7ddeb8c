package io.distillery.student;

import io.distillery.settings.Settings;
import java.util.Iterator;
import java.util.Map;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The default embedding student: a static vector per token of its vocabulary (a subset of the teacher's),
 * mean-pooled over the sentence, projected linearly to the teacher's dimension. Trained on cosine (and/or MSE)
 * to the teacher. Layer 0 holds the token vectors, layer 2 the projection.
 */
public final class StaticEmbeddingStudent {
  private static final int EMBEDDING_LAYER = 0;
  private static final int PROJECTION_LAYER = 2;

  private StaticEmbeddingStudent() {}

  public static MultiLayerConfiguration configuration(Settings.Student student, Settings.Train train,
      int vocabularySize, int teacherDimension) {
    return EmbeddingBag.layers(train, vocabularySize, student.width(), student.maxTokens())
        .layer(new OutputLayer.Builder(new CosineMseLoss(train.loss().cosineWeight(), train.loss().mseWeight()))
            .nIn(student.width())
            .nOut(teacherDimension)
            .activation(Activation.IDENTITY)
            .build())
        .build();
  }

  /**
   * Starts the student from the teacher's own token vectors (Model2Vec-style): row r of the embedding table
   * is the teacher's embedding of the token alone, the unknown row their mean, and the projection is the
   * identity. Needs width = teacher dimension.
   *
   * @param tokenVectors (student row, teacher vector) for rows 1..n; rows not given keep their random start
   */
  public static void initialiseFromTeacherTokens(MultiLayerNetwork net, Iterator<Map.Entry<Integer, float[]>> tokenVectors) {
    INDArray table = net.getLayer(EMBEDDING_LAYER).getParam(DefaultParamInitializer.WEIGHT_KEY);
    INDArray projection = net.getLayer(PROJECTION_LAYER).getParam(DefaultParamInitializer.WEIGHT_KEY);
    if (table.size(1) != projection.size(1)) {
      throw new IllegalArgumentException("distillery.student.init = teacher-tokens needs distillery.student.width"
          + " = the teacher's dimension (" + projection.size(1) + "), but width is " + table.size(1)
          + ". Set the width to " + projection.size(1) + " or use student.init = random.");
    }
    INDArray sum = Nd4j.zeros(DataType.FLOAT, table.size(1));
    java.util.List<Integer> rows = new java.util.ArrayList<>();
    while (tokenVectors.hasNext()) {
      Map.Entry<Integer, float[]> e = tokenVectors.next();
      INDArray v = Nd4j.createFromArray(e.getValue());
      table.putRow(e.getKey(), v);
      sum.addi(v);
      rows.add(e.getKey());
    }
    if (!rows.isEmpty()) {
      // Centre the vectors: a token alone shares a large common component (the special tokens around it)
      // that would otherwise dominate every mean. The unknown row becomes the centre itself, i.e. zero.
      INDArray mean = sum.divi(rows.size());
      for (int r : rows) {
        table.getRow(r).subi(mean);
      }
      table.putRow(Vocabulary.UNKNOWN_ROW, Nd4j.zeros(DataType.FLOAT, table.size(1)));
    }
    projection.assign(Nd4j.eye(projection.size(0)).castTo(DataType.FLOAT));
    net.getLayer(PROJECTION_LAYER).getParam(DefaultParamInitializer.BIAS_KEY).assign(0);
  }
}
