package io.distillery.teacher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.distillery.TestSettings;
import io.distillery.provenance.TeacherIdentity;
import io.distillery.settings.DeviceUnavailableException;
import io.distillery.settings.Settings;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

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

  /**
   * teacher.device = gpu on this CPU build: the driver's check and the executor's open both stop with what is
   * missing and what to do; with cpu-fallback the teacher runs on the CPU and answers exactly as the CPU teacher.
   */
  @Test
  void aGpuTeacherOnTheCpuBuildStopsOrFallsBackToTheSameAnswers() {
    Settings gpu = TestSettings.withOverrides(Map.of("distillery.teacher.device.kind", "gpu"));
    for (Executable attempt : List.<Executable>of(() -> OnnxEmbeddingTeacher.checkDevice(gpu.teacher()),
        () -> OnnxEmbeddingTeacher.open(gpu.teacher()).close())) {
      var e = assertThrows(DeviceUnavailableException.class, attempt);
      assertTrue(e.getMessage().startsWith("teacher.device.kind = gpu, but this ONNX Runtime has no CUDA execution "
          + "provider"), e.getMessage());
      assertTrue(e.getMessage().contains("build with -Pcuda")
          && e.getMessage().contains("set teacher.device.cpu-fallback = true"), e.getMessage());
    }
    Settings fallback = TestSettings.withOverrides(Map.of("distillery.teacher.device.kind", "gpu",
        "distillery.teacher.device.cpu-fallback", "true"));
    OnnxEmbeddingTeacher.checkDevice(fallback.teacher());
    try (OnnxEmbeddingTeacher onCpu = OnnxEmbeddingTeacher.open(fallback.teacher())) {
      assertEquals("cpu", onCpu.device());
      String s = "The Commission will present its proposal next month.";
      assertArrayEquals(teacher.embed(s), onCpu.embed(s));
    }
    assertEquals("cpu", teacher.device());
  }
}
