package io.distillery.jobs.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.distillery.jobs.TestRuns;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compaction of real cache segments (written by {@link ResponseCache.Segment}, one cut off by a crash), read back
 * the way generate reads the cache: every answer younger than the retention kept, each key's newest, the old ones
 * and the old segments gone.
 */
class CacheCompactionTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Instant NOW = Instant.parse("2026-12-02T03:00:00Z");
  private static final String ENDPOINT = "http://127.0.0.1:1/v1/completions";

  private static JsonNode answer(String key, String run) throws Exception {
    return JSON.readTree("{\"model\":\"m\",\"choices\":[{\"text\":\"" + key + " from " + run + "\"}]}");
  }

  private static long daysAgo(int days) {
    return NOW.minus(Duration.ofDays(days)).toEpochMilli();
  }

  @Test
  void liveAnswersSurviveOneANewestPerKeyAndExpiredOnesGo(@TempDir Path dir) throws Exception {
    try (ResponseCache.Segment night1 = new ResponseCache.Segment(dir.toString(), "r1.app.s1.p0.a0-1", ENDPOINT,
        "r1")) {
      for (int k = 1; k <= 100; k++) {
        night1.append("k" + k, answer("k" + k, "r1"), 10, 1, daysAgo(k <= 50 ? 100 : 10));
      }
    }
    try (ResponseCache.Segment night2 = new ResponseCache.Segment(dir.toString(), "r2.app.s1.p0.a0-2", ENDPOINT,
        "r2")) {
      for (int k = 51; k <= 120; k++) {
        if (k > 60 && k <= 100) {
          continue; // r2 asked only k51..k60 again, and k101..k120 for the first time
        }
        night2.append("k" + k, answer("k" + k, "r2"), 20, 2, daysAgo(1));
      }
    }
    Files.writeString(dir.resolve("r2.app.s1.p0.a0-2" + ResponseCache.SUFFIX), "{\"request_key\":\"k999\",\"resp",
        StandardCharsets.UTF_8, StandardOpenOption.APPEND); // a crash mid-line

    SparkSession spark = TestRuns.spark(TestRuns.settings(Map.of("distillery.spark.master", "local[2]")));
    CacheCompaction.Outcome o = CacheCompaction.compact(spark, dir.toString(), Duration.ofDays(90), NOW);
    assertEquals(2, o.segmentsBefore());
    assertEquals(100 + 30, o.linesRead(), "the cut line is not a line");
    assertEquals(70, o.kept(), "k51..k120");
    assertEquals(50, o.expired(), "k1..k50, answered 100 days ago");
    try (Stream<Path> files = Files.list(dir)) {
      assertTrue(files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(ResponseCache.SUFFIX))
          .allMatch(n -> n.startsWith("compacted-")), "the old segments are gone");
    }

    Map<String, Row> cached = new HashMap<>();
    ResponseCache.read(spark, dir.toString()).collectAsList().forEach(r -> cached.put(r.getAs(ResponseCache.KEY), r));
    assertEquals(70, cached.size());
    for (int k = 51; k <= 120; k++) {
      Row r = cached.get("k" + k);
      String run = k <= 60 || k > 100 ? "r2" : "r1";
      assertEquals(answer("k" + k, run), JSON.readTree(r.<String>getAs(ResponseCache.RESPONSE)), "k" + k);
      assertEquals(run, r.getAs(ResponseCache.RUN_ID));
      assertEquals(run.equals("r2") ? daysAgo(1) : daysAgo(10), r.<Long>getAs(ResponseCache.CREATED_AT));
    }
    assertFalse(cached.containsKey("k1"));

    CacheCompaction.Outcome again = CacheCompaction.compact(spark, dir.toString(), Duration.ofDays(90), NOW);
    assertEquals(new CacheCompaction.Outcome(o.segmentsAfter(), 70, 70, 0, 1), again, "compacting twice keeps all");
  }
}
