package io.distillery.student;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.distillery.TestSettings;
import io.distillery.settings.Settings;
import io.distillery.teacher.LabelTeacher;
import io.distillery.teacher.OpenNlpLanguageTeacher;
import io.distillery.util.Hashing;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;

/** The classify student and its inputs, against the real OpenNLP teacher. */
class CharNgramClassifierTest {
  private static final List<String> TEXTS = List.of(
      "The Commission will present its proposal to Parliament next month.",
      "Die Kommission wird dem Parlament im nächsten Monat ihren Vorschlag vorlegen.",
      "La Commission présentera sa proposition au Parlement le mois prochain.",
      "La Comisión presentará su propuesta al Parlamento el mes que viene.",
      "De Commissie zal het Parlement volgende maand haar voorstel voorleggen.",
      "La Commissione presenterà la sua proposta al Parlamento il mese prossimo.");

  @Test
  void ngramIdsAreStableBoundedAndCaseFolded() {
    ClassifierInputs inputs = new ClassifierInputs(new Settings.CharNgrams(1, 4, 1024, 20), List.of("a", "b"));
    int[] ids = inputs.ids("Hello");
    assertEquals(7 + 6 + 5 + 4, ids.length); // " hello " has 7 characters
    assertArrayEquals(ids, inputs.ids("HELLO"));
    assertTrue(Arrays.stream(ids).allMatch(i -> i >= 0 && i < 1024));
    assertEquals(inputs.length(), inputs.ids("x".repeat(500)).length); // cut to max-chars, never longer
    assertNotEquals(Arrays.toString(inputs.ids("hello")), Arrays.toString(inputs.ids("hallo")));
  }

  @Test
  void softTargetsKeepTheTopKAndSpreadTheRestAndSoftenWithTemperature() {
    ClassifierInputs inputs = new ClassifierInputs(new Settings.CharNgrams(1, 4, 1024, 20),
        List.of("a", "b", "c", "d"));
    float[] t1 = inputs.softTargets(List.of("b", "a"), List.of(0.7f, 0.2f), 1.0);
    assertArrayEquals(new float[] {0.2f, 0.7f, 0.05f, 0.05f}, t1, 1e-6f);
    float[] t2 = inputs.softTargets(List.of("b", "a"), List.of(0.7f, 0.2f), 2.0);
    double sum = 0;
    for (float v : t2) {
      sum += v;
    }
    assertEquals(1.0, sum, 1e-6);
    assertTrue(t2[1] < 0.7f && t2[2] > 0.05f, "T = 2 flattens the distribution");
    assertTrue(t2[1] > t2[0] && t2[0] > t2[2], "and keeps its order");
    var e = assertThrows(IllegalArgumentException.class,
        () -> inputs.softTargets(List.of("zz"), List.of(1f), 1.0));
    assertTrue(e.getMessage().contains("'zz'"), e.getMessage());
  }

  @Test
  void learnsTheTeacherAndTheFoldedModelEqualsTheNetwork() {
    Settings s = TestSettings.langid(Map.of("distillery.student.char-ngrams.buckets", "2048"));
    OpenNlpLanguageTeacher teacher = OpenNlpLanguageTeacher.open(s.teacher());
    assertEquals(103, teacher.labels().size());
    ClassifierInputs inputs = new ClassifierInputs(s.student().charNgrams(), teacher.labels());
    List<DataSet> examples = new ArrayList<>();
    List<String> teacherTop = new ArrayList<>();
    for (String text : TEXTS) {
      float[] p = teacher.distribution(text);
      LabelTeacher.TopK top = LabelTeacher.TopK.of(p, teacher.labels(), s.teacher().topK());
      assertEquals(s.teacher().topK(), top.labels().length);
      teacherTop.add(top.labels()[0]);
      examples.add(inputs.example(text, inputs.softTargets(List.of(top.labels()),
          IntStream.range(0, top.probabilities().length).mapToObj(i -> top.probabilities()[i])
              .toList(), s.train().loss().temperature()), inputs.labelIndex(top.labels()[0])));
    }
    assertEquals(List.of("eng", "deu", "fra", "spa", "nld", "ita"), teacherTop);
    DataSet all = DataSet.merge(examples);
    MultiLayerNetwork net = new MultiLayerNetwork(CharNgramClassifier.configuration(s.student(), s.train(), inputs));
    net.init();
    double before = net.score(all);
    for (int i = 0; i < 100; i++) {
      net.fit(all);
    }
    double after = net.score(all);
    assertTrue(after < before * 0.5, "loss " + before + " -> " + after);

    byte[] model = StudentArtifact.of(net, inputs).toBytes();
    assertEquals(inputs, StudentArtifact.fromBytes(model).classifierInputs());
    ClassifierModel student = ClassifierModel.load(model, new ClassifierModel.Spec(Hashing.sha256Hex(model)));
    float[][] reference = student.probabilitiesWithNetwork(TEXTS);
    for (int i = 0; i < TEXTS.size(); i++) {
      float[] p = student.probabilities(TEXTS.get(i));
      assertArrayEquals(reference[i], p, 1e-5f, "folded model = network, text " + i);
      int best = 0;
      for (int l = 1; l < p.length; l++) {
        best = p[l] > p[best] ? l : best;
      }
      assertEquals(teacherTop.get(i), student.labels().get(best), "student agrees with the teacher on " + i);
    }
    assertThrows(IllegalStateException.class, () -> ClassifierModel.load(model, new ClassifierModel.Spec("0")));
  }
}
