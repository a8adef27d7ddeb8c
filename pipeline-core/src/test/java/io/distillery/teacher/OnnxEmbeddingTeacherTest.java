package io.distillery.teacher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.distillery.TestSettings;
import io.distillery.provenance.TeacherIdentity;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The real default teacher: all-MiniLM-L6-v2 (quantized ONNX) from its Maven Central artifact. */
class OnnxEmbeddingTeacherTest {
  private static OnnxEmbeddingTeacher teacher;

  @BeforeAll
  static void open() {
    teacher = OnnxEmbeddingTeacher.open(TestSettings.defaults().teacher());
  }

  @AfterAll
  static void close() {
    teacher.close();
  }

  static double cos(float[] a, float[] b) {
    double dot = 0;
    for (int i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
    }
    return dot;
  }

  @Test
  void embedsToUnitVectorsOfTheModelsDimension() {
    float[] v = teacher.embed("The Commission will present its proposal next month.");
    assertEquals(384, teacher.dimension());
    assertEquals(384, v.length);
    assertEquals(1.0, cos(v, v), 1e-5);
  }

  @Test
  void isBitStableAcrossCalls() {
    String s = "Parliament adopted the resolution by a large majority.";
    assertArrayEquals(teacher.embed(s), teacher.embed(s));
  }

  @Test
  void placesParaphrasesCloserThanUnrelatedSentences() {
    float[] a = teacher.embed("The vote will take place tomorrow at noon.");
    float[] b = teacher.embed("We will vote tomorrow at twelve o'clock.");
    float[] c = teacher.embed("Fish stocks in the Baltic Sea are declining.");
    assertTrue(cos(a, b) > cos(a, c) + 0.2, "paraphrase " + cos(a, b) + " vs unrelated " + cos(a, c));
  }

  @Test
  void identityRecordsTheModelFileHashAndTerms() {
    TeacherIdentity id = teacher.identity();
    assertTrue(id.modelSha256().matches("[0-9a-f]{64}"), id.modelSha256());
    assertEquals("Apache-2.0", id.termsId());
    assertTrue(id.distillationAllowed());
  }
}
