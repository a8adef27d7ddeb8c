package io.distillery.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.distillery.TestSettings;
import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.jobs.pipeline.Pipeline;
import io.distillery.jobs.spark.HadoopFiles;
import io.distillery.run.RunLayout;
import io.distillery.run.Stage;
import io.distillery.run.StageManifest;
import io.distillery.settings.Settings;
import io.distillery.teacher.OnnxEmbeddingTeacher;
import io.distillery.teacher.server.TeacherServer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Task embed with a remote teacher: the whole pipeline against serve-teacher's /v1/embeddings (the real ONNX
 * embedder over real HTTP on loopback), the student with random init and its vocabulary from the prompts.
 */
class RemoteEmbeddingTeacherTest {
  private static final String MODEL = "sentence-transformers/all-MiniLM-L6-v2";

  @TempDir
  Path root;

  @Test
  void theEmbedPipelineRunsOnARemoteTeachersAnswers() throws Exception {
    Settings served = TestSettings.withOverrides(Map.of("distillery.serve.port", "0",
        "distillery.serve.max-concurrent", "2"));
    try (TeacherServer server = TeacherServer.start(served, Optional.empty())) {
      Map<String, String> o = TestRuns.small(root, "remote-embed");
      o.put("distillery.corpus.max-documents", "300");
      o.put("distillery.teacher.kind", "openai-embeddings");
      o.put("distillery.teacher.model", MODEL);
      o.put("distillery.teacher.http.base-url", "http://127.0.0.1:" + server.address().getPort() + "/v1");
      o.put("distillery.student.init", "random");
      o.put("distillery.evaluate.gate.min-mean-cosine", "-1");
      o.put("distillery.evaluate.gate.min-neighbour-recall", "0");
      Settings s = TestRuns.settings(o);
      SparkSession spark = TestRuns.spark(s);
      Map<Stage, StageManifest> done = Pipeline.runAll(s, spark);

      Map<String, Long> c = done.get(Stage.GENERATE).counts();
      assertEquals(c.get("rows_in"), c.get("written"), c.toString());
      assertEquals(c.get("rows_in"), c.get("answered_by_requests"));
      assertFalse(c.containsKey("vocabulary_tokens"), "no per-token teacher answers with random init: " + c);
      OnnxEmbeddingTeacher local = OnnxEmbeddingTeacher.shared(served.teacher());
      List<Row> rows = TestRuns.read(spark, s, DatasetKind.TEACHER_EMBEDDINGS).limit(50)
          .collectAsList();
      for (Row r : rows) {
        assertEquals(MODEL, r.getAs(Cols.SERVED_MODEL));
        assertTrue(r.<Long>getAs(Cols.PROMPT_TOKENS) > 2);
        float[] expected = local.embed(r.getAs(Cols.TEXT));
        List<Float> got = r.getList(r.fieldIndex(Cols.EMBEDDING));
        double cos = 0;
        for (int d = 0; d < expected.length; d++) {
          cos += expected[d] * got.get(d);
        }
        assertEquals(1.0, cos, 1e-5, "the remote answer is the teacher's embedding");
      }
      var card = StageManifest.json().readTree(HadoopFiles.read(spark, RunLayout.of(s.run()).modelCard()));
      assertTrue(card.at("/student_inputs/vocabulary_rows").asInt() > 1000, card.toString());
      assertEquals("random", card.at("/student_inputs/init").asText());
      var metrics = StageManifest.json().readTree(HadoopFiles.read(spark, RunLayout.of(s.run()).metrics())).get("metrics");
      assertTrue(metrics.get("mean_cosine").asDouble() > 0, metrics.toString());
      assertTrue(metrics.get("teacher_mean_latency_ms").asDouble() > 0, metrics.toString());
    }
  }
}
