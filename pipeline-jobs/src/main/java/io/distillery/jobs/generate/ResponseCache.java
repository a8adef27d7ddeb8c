package io.distillery.jobs.generate;

import static org.apache.spark.sql.functions.col;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The remote teachers' content-addressed response cache: JSON-lines segment files under
 * {@link io.distillery.run.RunLayout#responseCache()}, one line per answered request: its key (the hash of
 * endpoint, model, parameters and input: {@link #KEY}), the response body as the server sent it, and when and
 * how it was answered. Each Spark task attempt appends to its own segment and flushes as it goes, so a run
 * killed half-way keeps what it was answered; the driver joins the prompts with the cache before asking, and a
 * retried or speculative task attempt also reads its partition's earlier attempts. A line cut short by a crash
 * is skipped on reading (its request is simply asked again).
 */
public final class ResponseCache {
  private static final Logger LOG = LoggerFactory.getLogger(ResponseCache.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  public static final String KEY = "request_key";
  public static final String RESPONSE = "response";
  public static final String LATENCY_MS = "latency_ms";
  public static final String ATTEMPTS = "attempts";
  public static final String CREATED_AT = "created_at_ms";
  public static final String ENDPOINT = "endpoint";
  public static final String RUN_ID = "run_id";
  static final String SUFFIX = ".jsonl";

  /** One cache line as read back. */
  public record Entry(String response, double latencyMs, long attempts, long createdAtMillis)
      implements Serializable {}

  /** Columns of a segment line; {@code response} is read back as the JSON text of the response object. */
  public static final StructType SCHEMA = new StructType()
      .add(KEY, DataTypes.StringType)
      .add(ENDPOINT, DataTypes.StringType)
      .add(RUN_ID, DataTypes.StringType)
      .add(RESPONSE, DataTypes.StringType)
      .add(LATENCY_MS, DataTypes.DoubleType)
      .add(ATTEMPTS, DataTypes.LongType)
      .add(CREATED_AT, DataTypes.LongType);

  private ResponseCache() {}

  /** Every cached answer under {@code dir}, one per key (none if the cache is empty or absent). */
  public static Dataset<Row> read(SparkSession spark, String dir) {
    Path p = new Path(dir);
    try {
      FileSystem fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
      if (!fs.exists(p) || fs.listStatus(p, f -> f.getName().endsWith(SUFFIX)).length == 0) {
        return spark.createDataFrame(List.of(), SCHEMA);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot list the response cache " + dir, e);
    }
    return spark.read().schema(SCHEMA).option("mode", "DROPMALFORMED").json(dir + "/*" + SUFFIX)
        .where(col(KEY).isNotNull().and(col(RESPONSE).isNotNull()))
        .dropDuplicates(KEY);
  }

  /** The segment-name prefix of one partition of one Spark stage: every attempt of that task starts with it. */
  static String taskPrefix(String runId, String appId, int stageId, int partition) {
    return runId + "." + appId.replaceAll("[^A-Za-z0-9_-]", "_") + ".s" + stageId + ".p" + partition + ".";
  }

  /** The cache entries earlier attempts of this task wrote (task retry, speculation), by key. */
  static Map<String, Entry> readEarlierAttempts(String dir, String prefix) {
    Map<String, Entry> entries = new HashMap<>();
    Path p = new Path(dir);
    try {
      FileSystem fs = p.getFileSystem(new Configuration());
      if (!fs.exists(p)) {
        return entries;
      }
      for (FileStatus f : fs.listStatus(p, f -> f.getName().startsWith(prefix))) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(fs.open(f.getPath()), StandardCharsets.UTF_8))) {
          String line;
          while ((line = in.readLine()) != null) {
            parse(line).ifPresent(e -> entries.put(e.getKey(), e.getValue()));
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read the response cache " + dir, e);
    }
    if (!entries.isEmpty()) {
      LOG.info("{} answers from earlier attempts of this task ({}*) will not be asked again", entries.size(), prefix);
    }
    return entries;
  }

  private static Optional<Map.Entry<String, Entry>> parse(String line) {
    try {
      JsonNode n = JSON.readTree(line);
      if (n == null || !n.hasNonNull(KEY) || !n.path(RESPONSE).isObject()) {
        return Optional.empty();
      }
      return Optional.of(Map.entry(n.get(KEY).asText(), new Entry(n.get(RESPONSE).toString(),
          n.path(LATENCY_MS).asDouble(), n.path(ATTEMPTS).asLong(), n.path(CREATED_AT).asLong())));
    } catch (IOException e) {
      return Optional.empty(); // a line cut short by a crash
    }
  }

  /** Flushes every open segment that has unflushed answers, every {@link Segment#FLUSH_INTERVAL}. */
  private static final ScheduledExecutorService FLUSHER =
      Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "distillery-response-cache-flush");
        t.setDaemon(true);
        return t;
      });

  /**
   * Appends answers to one segment file, thread-safe (HTTP callbacks call it). A background thread flushes it to
   * the file system ({@code hflush}) every {@link #FLUSH_INTERVAL} while it has new lines, and close flushes the
   * rest: a JVM killed at any moment loses at most the answers of its last interval (plus those still on the
   * wire), and the callbacks never wait for the file system.
   */
  static final class Segment implements Closeable {
    static final Duration FLUSH_INTERVAL = Duration.ofMillis(200);
    private final FileSystem fs;
    private final FSDataOutputStream stream;
    private final Writer out;
    private final String endpoint;
    private final String runId;
    private final ScheduledFuture<?> flushing;
    private boolean dirty;
    private boolean closed;

    Segment(String dir, String name, String endpoint, String runId) {
      this.endpoint = endpoint;
      this.runId = runId;
      try {
        Path path = new Path(dir, name + SUFFIX);
        // Its own instance: checksums off (a local file's .crc is only written on close, and a killed task must
        // leave a readable segment), without changing the JVM's cached FileSystem.
        this.fs = FileSystem.newInstance(new Path(dir).toUri(), new Configuration());
        fs.setWriteChecksum(false);
        fs.mkdirs(new Path(dir));
        this.stream = fs.create(path, false);
        this.out = new OutputStreamWriter(stream, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot create a response-cache segment in " + dir, e);
      }
      long ms = FLUSH_INTERVAL.toMillis();
      this.flushing = FLUSHER.scheduleWithFixedDelay(this::flushIfDirty, ms, ms,
          TimeUnit.MILLISECONDS);
    }

    synchronized void append(String key, JsonNode response, double latencyMs, long attempts, long createdAtMillis) {
      ObjectNode line = JSON.createObjectNode().put(KEY, key).put(ENDPOINT, endpoint).put(RUN_ID, runId);
      line.set(RESPONSE, response);
      line.put(LATENCY_MS, latencyMs).put(ATTEMPTS, attempts).put(CREATED_AT, createdAtMillis);
      try {
        out.write(JSON.writeValueAsString(line));
        out.write('\n');
        dirty = true;
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot append to the response cache", e);
      }
    }

    private synchronized void flushIfDirty() {
      if (dirty && !closed) {
        try {
          flush();
        } catch (IOException e) {
          LOG.warn("Flushing a response-cache segment failed (retried in {})", FLUSH_INTERVAL, e);
        }
      }
    }

    private void flush() throws IOException {
      out.flush();
      stream.hflush();
      dirty = false;
    }

    @Override
    public synchronized void close() {
      if (closed) {
        return;
      }
      closed = true;
      flushing.cancel(false);
      try {
        flush();
        out.close();
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot close a response-cache segment", e);
      } finally {
        try {
          fs.close();
        } catch (IOException e) {
          LOG.warn("Closing the cache's file system failed", e);
        }
      }
    }
  }
}
