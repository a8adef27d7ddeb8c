package io.distillery.student;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.distillery.TestSettings;
import io.distillery.settings.Settings;
import io.distillery.teacher.OnnxEmbeddingTeacher;
import io.distillery.teacher.TokenContexts;
import io.distillery.util.Hashing;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.stream.LongStream;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

class StaticEmbeddingStudentTest {

  @Test
  void learnsTheTeacherOnASmallCorpusAndRoundTripsThroughModelSerializer() throws Exception {
    Settings s = TestSettings.withOverrides(Map.of("distillery.student.width", "32",
        "distillery.student.init", "random", "distillery.train.learning-rate", "0.01"));
    List<String> texts = List.of(
        "The Commission will present its proposal next month.",
        "Parliament adopted the resolution by a large majority.",
        "Fish stocks in the Baltic Sea are declining.",
        "The vote will take place tomorrow at noon.",
        "Farmers need fair prices for their products.",
        "The budget for research must be increased.");
    try (OnnxEmbeddingTeacher teacher = OnnxEmbeddingTeacher.open(s.teacher())) {
      Vocabulary vocabulary = Vocabulary.of(texts.stream()
          .flatMapToLong(t -> Arrays.stream(teacher.tokenizer().tokenIds(t, 64))).toArray());
      StudentInputs inputs = new StudentInputs(teacher.tokenizer(), vocabulary, s.student().maxTokens(), List.of());
      List<DataSet> examples = new ArrayList<>();
      for (String t : texts) {
        examples.add(inputs.example(t, teacher.embed(t)));
      }
      DataSet all = DataSet.merge(examples);
      MultiLayerNetwork net = new MultiLayerNetwork(StaticEmbeddingStudent.configuration(s.student(), s.train(),
          vocabulary.size(), teacher.dimension()));
      net.init();
      double before = net.score(all);
      for (int i = 0; i < 150; i++) {
        net.fit(all);
      }
      double after = net.score(all);
      assertTrue(after < before * 0.2, "loss " + before + " -> " + after);

      List<String> known = List.of(texts.get(0).strip().split("\\s+"));
      byte[] model = StudentArtifact.of(net, vocabulary, known).toBytes();
      assertEquals(vocabulary, StudentArtifact.fromBytes(model).vocabulary());
      assertEquals(known, StudentArtifact.fromBytes(model).knownWords());
      // A student saved before known words shipped has none, and loads.
      StudentArtifact older = new StudentArtifact(net, Map.of(StudentArtifact.VOCABULARY_ENTRY,
          vocabulary.toBytes()));
      assertEquals(List.of(), StudentArtifact.fromBytes(older.toBytes()).knownWords());
      StudentModel student = StudentModel.load(model, new StudentModel.Spec(Hashing.sha256Hex(model),
          s.teacher().tokenizer(), s.teacher().maxTokens(), s.student().maxTokens()));
      float[][] emb = student.embed(texts);
      assertEquals(texts.size(), emb.length);
      for (int i = 0; i < texts.size(); i++) {
        float[] t = teacher.embed(texts.get(i));
        double cos = 0;
        for (int d = 0; d < t.length; d++) {
          cos += t[d] * emb[i][d];
        }
        assertTrue(cos > 0.9, "training-set cosine of row " + i + " is " + cos);
      }
      // The folded student is the network's function: with float rows, the same embeddings as DL4J's forward pass
      // (with padding) to float rounding. The default rounds its rows to bfloat16 (8 significant bits, unit roundoff
      // 2^-8), which moves no element of an embedding by more than 2^-8 of the embedding's norm (1).
      float[][] reference = student.embedWithNetwork(texts);
      FoldedStudent floats = FoldedStudent.fold(net, RowTable.Precision.FLOAT);
      float[][] exact = new float[texts.size()][];
      for (int i = 0; i < texts.size(); i++) {
        exact[i] = floats.embed(inputs.rows(texts.get(i)));
        assertArrayEquals(reference[i], exact[i], 1e-5f, "row " + i);
        assertArrayEquals(exact[i], emb[i], 0x1p-8f, "row " + i);
      }
      // Padding must not change a sentence's embedding: one text alone equals the same text in a batch.
      assertArrayEquals(reference[2], student.embedWithNetwork(List.of(texts.get(2)))[0], 1e-5f);
      // The path before the word-row cache and the per-row table (the bench's baseline) gives the same embeddings as
      // the float rows, to float rounding: it adds rows one at a time, the folded student four at a time.
      float[][] earlier = new EarlierStudentPath(model, teacher.tokenizer(), s.student().maxTokens()).embed(texts);
      for (int i = 0; i < texts.size(); i++) {
        assertArrayEquals(earlier[i], exact[i], 1e-6f, "row " + i);
      }
      student.close();
    }
  }

  @Test
  void teacherTokenInitialisationStartsCloseToTheTeacher() {
    Settings s = TestSettings.defaults();
    List<String> texts = List.of("Fish stocks in the Baltic Sea are declining.",
        "Farmers need fair prices for their products.");
    try (OnnxEmbeddingTeacher teacher = OnnxEmbeddingTeacher.open(s.teacher())) {
      Vocabulary vocabulary = Vocabulary.of(texts.stream()
          .flatMapToLong(t -> Arrays.stream(teacher.tokenizer().tokenIds(t, 64))).toArray());
      MultiLayerNetwork net = new MultiLayerNetwork(StaticEmbeddingStudent.configuration(s.student(), s.train(),
          vocabulary.size(), teacher.dimension()));
      net.init();
      Map<Integer, float[]> rows = new HashMap<>();
      for (int r = 1; r < vocabulary.size(); r++) {
        rows.put(r, teacher.embedToken(vocabulary.teacherId(r)));
      }
      StaticEmbeddingStudent.initialiseFromTeacherTokens(net, rows.entrySet().iterator());
      byte[] model = StudentArtifact.of(net, vocabulary, List.of()).toBytes();
      StudentModel student = StudentModel.load(model, new StudentModel.Spec(Hashing.sha256Hex(model),
          s.teacher().tokenizer(), s.teacher().maxTokens(), s.student().maxTokens()));
      float[][] emb = student.embed(texts);
      for (int i = 0; i < texts.size(); i++) {
        float[] t = teacher.embed(texts.get(i));
        double cos = 0;
        for (int d = 0; d < t.length; d++) {
          cos += t[d] * emb[i][d];
        }
        // Untrained, the bag of the teacher's own token vectors already points the teacher's way
        // (a randomly initialised student is near 0).
        assertTrue(cos > 0.3, "cosine before training of row " + i + " is " + cos);
      }
      student.close();
    }
  }

  @Test
  void contextInitialisationReproducesTheTeacherOnTheTextsItsContextsCameFrom() {
    Settings s = TestSettings.defaults();
    String seen = "The vote on the fisheries report will take place tomorrow at noon.";
    String other = "Farmers need fair prices for their products.";
    try (OnnxEmbeddingTeacher teacher = OnnxEmbeddingTeacher.open(s.teacher())) {
      TokenContexts contexts = new TokenContexts(teacher.dimension());
      float[] answer = teacher.embed(seen, contexts);
      // Collecting contexts is the same single run: the answer is bit-identical.
      assertArrayEquals(teacher.embed(seen), answer, 0f);
      long[] special = teacher.tokenizer().specialIds();
      long[] tokens = teacher.tokenizer().tokenIds(seen, 64);
      Map<Long, StaticEmbeddingStudent.Context> context = new HashMap<>();
      long occurrences = 0;
      for (Iterator<TokenContexts.Total> it = contexts.totals(); it.hasNext(); ) {
        TokenContexts.Total t = it.next();
        float[] mean = t.sum().clone();
        for (int d = 0; d < mean.length; d++) {
          mean[d] /= t.occurrences();
        }
        context.put(t.tokenId(), new StaticEmbeddingStudent.Context(mean, t.occurrences()));
        occurrences += t.occurrences();
      }
      assertEquals(tokens.length + special.length, occurrences, "every position the teacher read, specials included");

      // The student's vocabulary: the seen text's tokens, another text's (no context: they start from the mean),
      // and the special tokens.
      long[] otherTokens = teacher.tokenizer().tokenIds(other, 64);
      Vocabulary vocabulary = Vocabulary.of(LongStream.concat(LongStream.concat(
          Arrays.stream(tokens), Arrays.stream(otherTokens)), Arrays.stream(special))
          .toArray());
      MultiLayerNetwork net = new MultiLayerNetwork(StaticEmbeddingStudent.configuration(s.student(), s.train(),
          vocabulary.size(), teacher.dimension()));
      net.init();
      List<StaticEmbeddingStudent.TokenVectors> rows = new ArrayList<>();
      for (int r = 1; r < vocabulary.size(); r++) {
        long id = vocabulary.teacherId(r);
        rows.add(new StaticEmbeddingStudent.TokenVectors(r, Optional.of(teacher.embedToken(id)),
            Optional.ofNullable(context.get(id))));
      }
      StaticEmbeddingStudent.initialiseFromTeacherContexts(net, 0, rows::iterator); // contexts as they are
      byte[] model = StudentArtifact.of(net, vocabulary, List.of()).toBytes();
      try (StudentModel student = StudentModel.load(model, new StudentModel.Spec(Hashing.sha256Hex(model),
          s.teacher().tokenizer(), s.teacher().maxTokens(), s.student().maxTokens()))) {
        // Each of the text's tokens (and [CLS], [SEP]) starts as its hidden state there: untrained, the student's
        // mean pooling is the teacher's own, up to float rounding.
        assertEquals(1.0, cosine(answer, student.embed(List.of(seen))[0]), 1e-5);
        // The DL4J network computes the same function as the folded student, special tokens included: to float
        // rounding with float rows, to bfloat16's (2^-8, above) with the default's.
        float[] exact = FoldedStudent.fold(net, RowTable.Precision.FLOAT).embed(
            new StudentInputs(teacher.tokenizer(), vocabulary, s.student().maxTokens(), List.of()).rows(other));
        assertArrayEquals(student.embedWithNetwork(List.of(seen, other))[1], exact, 1e-5f);
        assertArrayEquals(exact, student.embed(List.of(other))[0], 0x1p-8f);
        // A text none of whose tokens has a context is not reproduced: its tokens all start from the mean context
        // (too few tokens here to fit the map from their vectors alone).
        double otherCosine = cosine(teacher.embed(other), student.embed(List.of(other))[0]);
        assertTrue(otherCosine < 0.9, "cosine of a text without contexts " + otherCosine);
      }
    }
  }

  @Test
  void aStudentSavedBeforeTheBagWasOneLayerStillFoldsToItsNetwork() {
    int rows = 12;
    int dim = 6;
    int hidden = 3;
    int length = 5;
    MultiLayerNetwork net = EarlierLayoutStudent.network(rows, dim, hidden, length, 3, 0.001);
    net.params().assign(Nd4j.rand(DataType.FLOAT,
        net.params().shape()).subi(0.5)); // every weight, the head's included, non-zero
    assertTrue(StaticEmbeddingStudent.hasHead(net));
    int[] ids = {3, 7, 7, 11};
    float[][] features = new float[1][length];
    float[][] mask = new float[1][length];
    for (int t = 0; t < ids.length; t++) {
      features[0][t] = ids[t];
      mask[0][t] = 1;
    }
    float[] expected = net.output(Nd4j.createFromArray(features), false,
        Nd4j.createFromArray(mask), null).toFloatVector();
    double norm = 0;
    for (float v : expected) {
      norm += v * v;
    }
    for (int d = 0; d < dim; d++) {
      expected[d] /= (float) Math.sqrt(norm);
    }
    assertArrayEquals(expected, FoldedStudent.fold(net, RowTable.Precision.FLOAT).embed(ids), 1e-5f);
  }

  @Test
  void aLeastSquaresMapRecoversAnAffineMapAndNeedsEnoughPairs() {
    Random random = new Random(7);
    int in = 6;
    int out = 3;
    float[][] a = new float[in][out];
    float[] b = {0.5f, -1f, 2f};
    for (float[] row : a) {
      for (int j = 0; j < out; j++) {
        row[j] = (float) random.nextGaussian();
      }
    }
    LinearMap.Fit fit = new LinearMap.Fit(in, out);
    for (int n = 0; n < in; n++) {
      fit.add(randomVector(random, in), new float[out]);
    }
    assertTrue(fit.solve().isEmpty(), "6 pairs cannot fix 7 unknowns per output");
    fit = new LinearMap.Fit(in, out);
    for (int n = 0; n < 50; n++) {
      float[] x = randomVector(random, in);
      fit.add(x, affine(a, b, x));
    }
    LinearMap map = fit.solve().orElseThrow();
    float[] x = randomVector(random, in);
    assertArrayEquals(affine(a, b, x), map.apply(x), 1e-3f);
  }

  private static float[] randomVector(Random random, int n) {
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) random.nextGaussian();
    }
    return x;
  }

  private static float[] affine(float[][] a, float[] b, float[] x) {
    float[] y = b.clone();
    for (int i = 0; i < x.length; i++) {
      for (int j = 0; j < y.length; j++) {
        y[j] += x[i] * a[i][j];
      }
    }
    return y;
  }

  private static double cosine(float[] a, float[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int d = 0; d < a.length; d++) {
      dot += a[d] * b[d];
      na += a[d] * a[d];
      nb += b[d] * b[d];
    }
    return dot / Math.sqrt(na * nb);
  }

  @Test
  void teacherTokenInitialisationRejectsAWidthThatIsNotTheTeachersDimension() {
    Settings s = TestSettings.withOverrides(Map.of("distillery.student.width", "32"));
    MultiLayerNetwork net = new MultiLayerNetwork(StaticEmbeddingStudent.configuration(s.student(), s.train(), 10, 384));
    net.init();
    IllegalArgumentException e = Assertions.assertThrows(IllegalArgumentException.class,
        () -> StaticEmbeddingStudent.initialiseFromTeacherTokens(net, Collections.emptyIterator()));
    assertTrue(e.getMessage().contains("distillery.student.width"), e.getMessage());
  }
}
