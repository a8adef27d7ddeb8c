package io.distillery.student;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.distillery.TestSettings;
import io.distillery.settings.Settings;
import io.distillery.teacher.OnnxEmbeddingTeacher;
import io.distillery.util.Hashing;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;

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
          .flatMapToLong(t -> java.util.Arrays.stream(teacher.tokenizer().tokenIds(t, 64))).toArray());
      StudentInputs inputs = new StudentInputs(teacher.tokenizer(), vocabulary, s.student().maxTokens());
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

      byte[] model = StudentArtifact.of(net, vocabulary).toBytes();
      assertEquals(vocabulary, StudentArtifact.fromBytes(model).vocabulary());
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
      // The folded student is the network's function: same embeddings as DL4J's forward pass (with padding).
      float[][] reference = student.embedWithNetwork(texts);
      for (int i = 0; i < texts.size(); i++) {
        assertArrayEquals(reference[i], emb[i], 1e-5f, "row " + i);
      }
      // Padding must not change a sentence's embedding: one text alone equals the same text in a batch.
      assertArrayEquals(reference[2], student.embedWithNetwork(List.of(texts.get(2)))[0], 1e-5f);
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
          .flatMapToLong(t -> java.util.Arrays.stream(teacher.tokenizer().tokenIds(t, 64))).toArray());
      MultiLayerNetwork net = new MultiLayerNetwork(StaticEmbeddingStudent.configuration(s.student(), s.train(),
          vocabulary.size(), teacher.dimension()));
      net.init();
      Map<Integer, float[]> rows = new java.util.HashMap<>();
      for (int r = 1; r < vocabulary.size(); r++) {
        rows.put(r, teacher.embedToken(vocabulary.teacherId(r)));
      }
      StaticEmbeddingStudent.initialiseFromTeacherTokens(net, rows.entrySet().iterator());
      byte[] model = StudentArtifact.of(net, vocabulary).toBytes();
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
  void teacherTokenInitialisationRejectsAWidthThatIsNotTheTeachersDimension() {
    Settings s = TestSettings.withOverrides(Map.of("distillery.student.width", "32"));
    MultiLayerNetwork net = new MultiLayerNetwork(StaticEmbeddingStudent.configuration(s.student(), s.train(), 10, 384));
    net.init();
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> StaticEmbeddingStudent.initialiseFromTeacherTokens(net, java.util.Collections.emptyIterator()));
    assertTrue(e.getMessage().contains("distillery.student.width"), e.getMessage());
  }
}
