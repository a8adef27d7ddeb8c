package io.distillery.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.distillery.TestSettings;
import io.distillery.jobs.lineage.Lineage;
import io.distillery.jobs.lineage.LineageFacets;
import io.distillery.jobs.pipeline.Pipeline;
import io.distillery.run.Stage;
import io.distillery.run.StageManifest;
import io.distillery.settings.Settings;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Lineage as the platform reads it: the OpenLineage Spark listener, configured as deploy/submit-yarn.sh configures
 * it, posts its events over HTTP to a collector (here one on loopback that records them); the datasets generate
 * writes carry Distillery's facet naming the teacher and its terms.
 */
public class LineageTest {
  /** The listener's settings, as submit-yarn.sh passes them with OPENLINEAGE_URL set (DeployFilesTest checks). */
  public static Map<String, String> listener(String url) {
    return Map.of(
        "spark.extraListeners", "io.openlineage.spark.agent.OpenLineageSparkListener",
        "spark.openlineage.transport.type", "http",
        "spark.openlineage.transport.url", url,
        "spark.openlineage.namespace", "distillery",
        "spark.openlineage.capturedProperties", "spark.master,spark.app.name," + Lineage.TEACHER);
  }

  @Test
  void theDatasetsGenerateWritesCarryTheTeacherAndItsTermsInTheListenersEvents(@TempDir Path root)
      throws IOException {
    List<JsonNode> events = new CopyOnWriteArrayList<>();
    HttpServer collector = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    collector.createContext("/api/v1/lineage", exchange -> {
      events.add(StageManifest.json().readTree(exchange.getRequestBody().readAllBytes()));
      exchange.sendResponseHeaders(201, -1);
      exchange.close();
    });
    collector.start();
    Map<String, String> spark = listener("http://127.0.0.1:" + collector.getAddress().getPort());
    if (SparkSession.getDefaultSession().isDefined()) {
      SparkSession.getDefaultSession().get().stop(); // a session another test left would not have the listener
    }
    spark.forEach(System::setProperty); // SparkConf reads spark.* system properties
    SparkSession session = null;
    try {
      Map<String, String> o = new HashMap<>();
      o.put("distillery.run.root", root.toUri().toString());
      o.put("distillery.run.id", "lineage");
      o.put("distillery.spark.master", "local[2]");
      o.put("distillery.spark.partitions", "2");
      o.put("distillery.corpus.max-documents", "60");
      o.put("distillery.teacher.terms.version", "2026-01-15");
      Settings settings = TestSettings.langid(o);
      session = TestRuns.spark(settings);
      Pipeline.run(settings, session, List.of(Stage.INGEST, Stage.GENERATE), false);
    } finally {
      if (session != null) {
        session.stop(); // flushes the listener's last events
      }
      spark.keySet().forEach(System::clearProperty);
      collector.stop(0);
    }

    assertFalse(events.isEmpty(), "the listener posted nothing");
    List<JsonNode> facets = new ArrayList<>();
    List<String> outputs = new ArrayList<>();
    for (JsonNode e : events) {
      for (JsonNode out : e.path("outputs")) {
        outputs.add(out.path("name").asText());
        if (out.path("facets").has(LineageFacets.FACET)) {
          facets.add(out);
        }
      }
    }
    assertTrue(outputs.stream().anyMatch(n -> n.endsWith("prompts")), outputs.toString());
    assertTrue(facets.stream().anyMatch(f -> f.path("name").asText().endsWith("teacher_labels")),
        "teacher_labels carries the facet: " + outputs);
    for (JsonNode out : facets) {
      JsonNode facet = out.path("facets").path(LineageFacets.FACET);
      assertEquals("apache-opennlp/langdetect-183", facet.path("name").asText(), facet.toString());
      assertEquals("Apache-2.0", facet.path("termsId").asText());
      assertEquals("2026-01-15", facet.path("termsVersion").asText());
      assertEquals("https://opennlp.apache.org/models.html", facet.path("termsUrl").asText());
      assertTrue(facet.path("distillationAllowed").asBoolean());
      assertEquals("lineage", facet.path("runId").asText());
      assertFalse(out.path("name").asText().endsWith("prompts"), "ingest's prompts are no teacher's answers");
    }
  }
}
