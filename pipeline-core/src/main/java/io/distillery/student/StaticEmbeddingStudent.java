package io.distillery.student;

import io.distillery.settings.Settings;
import io.distillery.settings.StudentInit;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The default embedding student: a static vector per token of its vocabulary (a subset of the teacher's),
 * mean-pooled over the sentence, projected linearly to the teacher's dimension, plus (student.hidden > 0) a small
 * ReLU head beside the projection that corrects it by what the bag of tokens says as a whole. Trained on cosine
 * (and/or MSE) to the teacher. Layer 0 holds the token vectors (pooled), layer 1 the head (if any), the last the
 * projection.
 */
public final class StaticEmbeddingStudent {
  static final int EMBEDDING_LAYER = 0;

  private StaticEmbeddingStudent() {}

  public static MultiLayerConfiguration configuration(Settings.Student student, Settings.Train train,
      int vocabularySize, int teacherDimension) {
    NeuralNetConfiguration.ListBuilder layers = EmbeddingBag.layers(train, vocabularySize, student.width(),
        student.maxTokens());
    int in = student.width();
    if (student.hidden() > 0) {
      // The pooled vector goes two ways at once: a linear path of the teacher's dimension and `hidden` ReLU units;
      // the output layer sums the linear path's projection and the units' correction (a residual head).
      layers.layer(new DenseLayer.Builder().nIn(in).nOut(teacherDimension + student.hidden())
          .activation(new PartialReluActivation(teacherDimension)).build());
      in = teacherDimension + student.hidden();
    }
    return layers
        .layer(new OutputLayer.Builder(new CosineMseLoss(train.loss().cosineWeight(), train.loss().mseWeight()))
            .nIn(in)
            .nOut(teacherDimension)
            .activation(Activation.IDENTITY)
            .build())
        .build();
  }

  /** Index of the output (projection) layer: the last. */
  static int projectionLayer(MultiLayerNetwork net) {
    return net.getnLayers() - 1;
  }

  /** Whether the network has the residual head (student.hidden > 0). */
  static boolean hasHead(MultiLayerNetwork net) {
    return projectionLayer(net) > EmbeddingBag.headStart(net);
  }

  /** With a head: index of its dense layer, the linear path and the hidden ReLU units. */
  static int headLayer(MultiLayerNetwork net) {
    return EmbeddingBag.headStart(net);
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
    requireTeacherWidth(net, StudentInit.TEACHER_TOKENS);
    INDArray sum = Nd4j.zeros(DataType.FLOAT, table.size(1));
    List<Integer> rows = new ArrayList<>();
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
  public record TokenVectors(int row, Optional<float[]> alone, Optional<Context> context) {}

  /** A token's mean hidden state in context, over {@code occurrences} positions. */
  public record Context(float[] mean, long occurrences) {}

  /**
   * Starts the student from the teacher's hidden states in context: row r is the teacher's mean last hidden state
   * at its token over the training split (special tokens included), the projection is the identity, so the
   * student's mean pooling starts as the teacher's own over static vectors. A token without contexts (seen only
   * in the validation or test split) starts from its vector alone mapped into the context space by a least-squares
   * fit over the tokens that have both (from the mean context if fewer tokens than dimensions have both); the
   * unknown row is the mean context. A context mean is shrunk towards that estimate, which weighs as much as
   * {@code prior} occurrences (student.context-prior). Needs width = teacher dimension.
   *
   * @param tokens every vocabulary row's vectors, twice (once to fit the map, once to place the rows)
   */
  public static void initialiseFromTeacherContexts(MultiLayerNetwork net, double prior,
      Supplier<Iterator<TokenVectors>> tokens) {
    INDArray table = net.getLayer(EMBEDDING_LAYER).getParam(DefaultParamInitializer.WEIGHT_KEY);
    requireTeacherWidth(net, StudentInit.TEACHER_CONTEXT);
    int dim = (int) table.size(1);
    LinearMap.Fit fit = new LinearMap.Fit(dim, dim);
    double[] meanContext = new double[dim];
    long contexts = 0;
    for (Iterator<TokenVectors> it = tokens.get(); it.hasNext(); ) {
      TokenVectors t = it.next();
      if (t.context().isPresent()) {
        float[] c = t.context().get().mean();
        for (int d = 0; d < dim; d++) {
          meanContext[d] += c[d];
        }
        contexts++;
        t.alone().ifPresent(a -> fit.add(a, c));
      }
    }
    if (contexts == 0) {
      throw new IllegalArgumentException(Settings.Student.INIT.is(StudentInit.TEACHER_CONTEXT) + ", but the teacher "
          + "recorded no token contexts: the training split is empty or was answered by a remote teacher. Use "
          + Settings.Student.INIT.is(StudentInit.RANDOM) + ".");
    }
    float[] mean = new float[dim];
    for (int d = 0; d < dim; d++) {
      mean[d] = (float) (meanContext[d] / contexts);
    }
    // Too few tokens with both vectors to fit the map (a tiny corpus): the others start from the mean context.
    Optional<LinearMap> map = fit.solve();
    for (Iterator<TokenVectors> it = tokens.get(); it.hasNext(); ) {
      TokenVectors t = it.next();
      float[] estimate = map.isPresent() && t.alone().isPresent() ? map.get().apply(t.alone().get()) : mean;
      table.putRow(t.row(), Nd4j.createFromArray(t.context().map(c -> blend(c, estimate, prior)).orElse(estimate)));
    }
    table.putRow(Vocabulary.UNKNOWN_ROW, Nd4j.createFromArray(mean));
    identityProjection(net);
  }

  /**
   * A token's context mean shrunk towards the estimate from its vector alone, the estimate weighing as much as
   * {@code prior} occurrences: a token seen a few times has a mean of a few sentences' worth of context, which the
   * estimate steadies; a frequent one keeps its own.
   */
  private static float[] blend(Context context, float[] estimate, double prior) {
    if (prior == 0) {
      return context.mean();
    }
    float[] out = new float[estimate.length];
    double n = context.occurrences();
    for (int d = 0; d < out.length; d++) {
      out[d] = (float) ((n * context.mean()[d] + prior * estimate[d]) / (n + prior));
    }
    return out;
  }

  private static void requireTeacherWidth(MultiLayerNetwork net, StudentInit init) {
    INDArray table = net.getLayer(EMBEDDING_LAYER).getParam(DefaultParamInitializer.WEIGHT_KEY);
    INDArray projection = net.getLayer(projectionLayer(net)).getParam(DefaultParamInitializer.WEIGHT_KEY);
    if (table.size(1) != projection.size(1)) {
      throw new IllegalArgumentException(Settings.Student.INIT.full() + " = " + init + " needs "
          + Settings.Student.WIDTH.full() + " = the teacher's dimension (" + projection.size(1) + "), but width is "
          + table.size(1) + ". Set the width to " + projection.size(1) + " or use " + Settings.Student.INIT.is(
          StudentInit.RANDOM) + ".");
    }
  }

  /**
   * The student as the pooled vector itself: the projection is the identity, and a head's linear path too, while
   * its hidden units (randomly started) add nothing yet (their output weights are zero).
   */
  private static void identityProjection(MultiLayerNetwork net) {
    int out = projectionLayer(net);
    INDArray projection = net.getLayer(out).getParam(DefaultParamInitializer.WEIGHT_KEY);
    long dim = projection.size(1);
    projection.assign(0);
    projection.get(NDArrayIndex.interval(0, dim), NDArrayIndex.all())
        .assign(Nd4j.eye(dim).castTo(DataType.FLOAT));
    net.getLayer(out).getParam(DefaultParamInitializer.BIAS_KEY).assign(0);
    if (hasHead(net)) {
      INDArray head = net.getLayer(headLayer(net)).getParam(DefaultParamInitializer.WEIGHT_KEY);
      head.get(NDArrayIndex.all(), NDArrayIndex.interval(0, dim)).assign(Nd4j.eye(dim).castTo(DataType.FLOAT));
      net.getLayer(headLayer(net)).getParam(DefaultParamInitializer.BIAS_KEY).assign(0);
    }
  }
}
