package io.distillery.student;

import io.distillery.settings.Settings;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
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
    requireTeacherWidth(net, "teacher-tokens");
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
    identityProjection(net);
  }

  /** A vocabulary token's teacher vectors: the token seen alone, and in context where the training split has it. */
  public record TokenVectors(int row, Optional<float[]> alone, Optional<float[]> context) {}

  /**
   * Starts the student from the teacher's hidden states in context: row r is the teacher's mean last hidden state
   * at its token over the training split (special tokens included), the projection is the identity, so the
   * student's mean pooling starts as the teacher's own over static vectors. A token without contexts (seen only
   * in the validation or test split) starts from its vector alone mapped into the context space by a least-squares
   * fit over the tokens that have both (from the mean context if fewer tokens than dimensions have both); the
   * unknown row is the mean context. Needs width = teacher dimension.
   *
   * @param tokens every vocabulary row's vectors, twice (once to fit the map, once to place the rows)
   */
  public static void initialiseFromTeacherContexts(MultiLayerNetwork net, Supplier<Iterator<TokenVectors>> tokens) {
    INDArray table = net.getLayer(EMBEDDING_LAYER).getParam(DefaultParamInitializer.WEIGHT_KEY);
    requireTeacherWidth(net, "teacher-context");
    int dim = (int) table.size(1);
    LinearMap.Fit fit = new LinearMap.Fit(dim, dim);
    double[] meanContext = new double[dim];
    long contexts = 0;
    for (Iterator<TokenVectors> it = tokens.get(); it.hasNext(); ) {
      TokenVectors t = it.next();
      if (t.context().isPresent()) {
        float[] c = t.context().get();
        for (int d = 0; d < dim; d++) {
          meanContext[d] += c[d];
        }
        contexts++;
        t.alone().ifPresent(a -> fit.add(a, c));
      }
    }
    if (contexts == 0) {
      throw new IllegalArgumentException("student.init = teacher-context, but the teacher recorded no token "
          + "contexts: the training split is empty or was answered by a remote teacher. Use student.init = random.");
    }
    float[] mean = new float[dim];
    for (int d = 0; d < dim; d++) {
      mean[d] = (float) (meanContext[d] / contexts);
    }
    // Too few tokens with both vectors to fit the map (a tiny corpus): the others start from the mean context.
    Optional<LinearMap> map = fit.solve();
    for (Iterator<TokenVectors> it = tokens.get(); it.hasNext(); ) {
      TokenVectors t = it.next();
      float[] start = t.context().orElseGet(() -> map.isPresent() && t.alone().isPresent()
          ? map.get().apply(t.alone().get()) : mean);
      table.putRow(t.row(), Nd4j.createFromArray(start));
    }
    table.putRow(Vocabulary.UNKNOWN_ROW, Nd4j.createFromArray(mean));
    identityProjection(net);
  }

  private static void requireTeacherWidth(MultiLayerNetwork net, String init) {
    INDArray table = net.getLayer(EMBEDDING_LAYER).getParam(DefaultParamInitializer.WEIGHT_KEY);
    INDArray projection = net.getLayer(PROJECTION_LAYER).getParam(DefaultParamInitializer.WEIGHT_KEY);
    if (table.size(1) != projection.size(1)) {
      throw new IllegalArgumentException("distillery.student.init = " + init + " needs distillery.student.width"
          + " = the teacher's dimension (" + projection.size(1) + "), but width is " + table.size(1)
          + ". Set the width to " + projection.size(1) + " or use student.init = random.");
    }
  }

  private static void identityProjection(MultiLayerNetwork net) {
    INDArray projection = net.getLayer(PROJECTION_LAYER).getParam(DefaultParamInitializer.WEIGHT_KEY);
    projection.assign(Nd4j.eye(projection.size(0)).castTo(DataType.FLOAT));
    net.getLayer(PROJECTION_LAYER).getParam(DefaultParamInitializer.BIAS_KEY).assign(0);
  }
}
