package io.distillery.jobs.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Cache segments as a crash leaves them: flushed without close, and cut off mid-line. */
class ResponseCacheTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void anAnswerReachesTheFileWithinAFlushIntervalAndACutLineIsSkipped(@TempDir Path dir) throws Exception {
    ResponseCache.Segment segment = new ResponseCache.Segment(dir.toString(), "run.app.s1.p0.a0-7",
        "http://127.0.0.1:1/v1/chat/completions", "run");
    try {
      segment.append("k1", JSON.readTree("{\"model\":\"m\",\"choices\":[]}"), 12.5, 2, 1000L);
      Path file = dir.resolve("run.app.s1.p0.a0-7" + ResponseCache.SUFFIX);
      long deadline = System.nanoTime() + 5_000_000_000L; // 25 flush intervals
      while (!Files.readString(file).contains("\"k1\"") && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      // Not closed, one short line (far below any buffer size): only the timed flush puts it in the file.
      assertTrue(Files.readString(file).endsWith("\n"), "the line is in the file before close");

      // A crash in the middle of the next line: the reader keeps the whole line and skips the cut one.
      Files.writeString(file, "{\"request_key\":\"k2\",\"response\":{\"mod", StandardCharsets.UTF_8,
          StandardOpenOption.APPEND);
      Map<String, ResponseCache.Entry> read = ResponseCache.readEarlierAttempts(dir.toString(), "run.app.s1.p0.");
      assertEquals(Map.of("k1", new ResponseCache.Entry("{\"model\":\"m\",\"choices\":[]}", 12.5, 2, 1000L)), read);
      assertEquals(Map.of(), ResponseCache.readEarlierAttempts(dir.toString(), "run.app.s1.p1."));
    } finally {
      segment.close();
    }
  }
}
