package io.distillery.jobs.generate;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.row_number;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.distillery.jobs.spark.Iterators;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.UnaryOperator;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code distillery cache compact}: the response cache's segments (one per task attempt of every run) merged into a
 * few files of the same line format, keeping each key's newest answer younger than the retention. The segments are
 * listed first and only those are deleted, after the compacted files are in place: a generate appending meanwhile
 * keeps its segments, and a compaction cut short leaves duplicates (which reading drops), never a gap.
 */
public final class CacheCompaction {
  private static final Logger LOG = LoggerFactory.getLogger(CacheCompaction.class);
  private static final String NEWEST = "_newest";
  /** Lines per compacted file, about: a few files, each small enough to read in one task. */
  private static final long LINES_PER_FILE = 200_000;

  private CacheCompaction() {}

  /**
   * What a compaction did: segment files before and after, lines read (duplicates included, cut lines not), the
   * answers kept (one per key), and the keys dropped for having no answer younger than the retention.
   */
  public record Outcome(long segmentsBefore, long linesRead, long kept, long expired, long segmentsAfter) {}

  public static Outcome compact(SparkSession spark, String dir, Duration retention, Instant now) {
    return compact(spark, dir, retention, now, UnaryOperator.identity());
  }

  /**
   * A compaction that also drops the answers {@code keep} filters out of the live lines (distillery purge: the
   * answers of purged rows): they are in no compacted file, and their segments are deleted with the rest.
   */
  public static Outcome compact(SparkSession spark, String dir, Duration retention, Instant now,
      UnaryOperator<Dataset<Row>> keep) {
    Path root = new Path(dir);
    try {
      FileSystem fs = root.getFileSystem(spark.sparkContext().hadoopConfiguration());
      if (!fs.exists(root)) {
        return new Outcome(0, 0, 0, 0, 0);
      }
      FileStatus[] segments = fs.listStatus(root, p -> p.getName().endsWith(ResponseCache.SUFFIX));
      if (segments.length == 0) {
        return new Outcome(0, 0, 0, 0, 0);
      }
      List<String> paths = new ArrayList<>();
      for (FileStatus f : segments) {
        paths.add(f.getPath().toString());
      }
      Dataset<Row> lines = spark.read().schema(ResponseCache.SCHEMA).option("mode", "DROPMALFORMED")
          .json(paths.toArray(String[]::new))
          .where(col(ResponseCache.KEY).isNotNull().and(col(ResponseCache.RESPONSE).isNotNull()))
          .persist();
      try {
        long read = lines.count();
        long cutoff = now.toEpochMilli() - retention.toMillis();
        Dataset<Row> live = keep.apply(lines.where(col(ResponseCache.CREATED_AT).geq(cutoff)));
        Dataset<Row> newest = live.withColumn(NEWEST, row_number().over(Window.partitionBy(ResponseCache.KEY)
                .orderBy(col(ResponseCache.CREATED_AT).desc(), col(ResponseCache.RUN_ID))))
            .where(col(NEWEST).equalTo(1)).drop(NEWEST).persist();
        try {
          long kept = newest.count();
          long expired = lines.select(ResponseCache.KEY).distinct().count() - kept; // keys with no live answer
          Path staging = new Path(root, "_compacting-" + now.toEpochMilli());
          int files = (int) Math.max(1, (kept + LINES_PER_FILE - 1) / LINES_PER_FILE);
          newest.repartition(files).mapPartitions(new ToLines(), Encoders.STRING()).write().text(staging.toString());
          List<Path> written = new ArrayList<>();
          for (FileStatus part : fs.listStatus(staging, p -> p.getName().startsWith("part-"))) {
            Path target = new Path(root, "compacted-" + now.toEpochMilli() + "-" + written.size()
                + ResponseCache.SUFFIX);
            if (!fs.rename(part.getPath(), target)) {
              throw new IOException("rename " + part.getPath() + " -> " + target + " failed");
            }
            written.add(target);
          }
          fs.delete(staging, true);
          for (FileStatus f : segments) {
            fs.delete(f.getPath(), false);
          }
          LOG.info("Response cache {}: {} segments ({} lines) compacted into {} files: {} answers kept, {} older than "
              + "{} dropped", dir, segments.length, read, written.size(), kept, expired, retention);
          return new Outcome(segments.length, read, kept, expired, written.size());
        } finally {
          newest.unpersist();
        }
      } finally {
        lines.unpersist();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot compact the response cache " + dir, e);
    }
  }

  /** Executor side: cache rows back to segment lines, the response as the JSON object it was. */
  record ToLines() implements MapPartitionsFunction<Row, String> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public Iterator<String> call(Iterator<Row> rows) {
      return Iterators.map(rows, r -> {
        try {
          ObjectNode line = JSON.createObjectNode().put(ResponseCache.KEY, r.<String>getAs(ResponseCache.KEY))
              .put(ResponseCache.ENDPOINT, r.<String>getAs(ResponseCache.ENDPOINT))
              .put(ResponseCache.RUN_ID, r.<String>getAs(ResponseCache.RUN_ID));
          line.set(ResponseCache.RESPONSE, JSON.readTree(r.<String>getAs(ResponseCache.RESPONSE)));
          Double latency = r.getAs(ResponseCache.LATENCY_MS);
          Long attempts = r.getAs(ResponseCache.ATTEMPTS);
          Long created = r.getAs(ResponseCache.CREATED_AT);
          line.put(ResponseCache.LATENCY_MS, latency == null ? 0 : latency)
              .put(ResponseCache.ATTEMPTS, attempts == null ? 0 : attempts)
              .put(ResponseCache.CREATED_AT, created == null ? 0 : created);
          return JSON.writeValueAsString(line);
        } catch (IOException e) {
          throw new UncheckedIOException("A cached response is not JSON", e);
        }
      });
    }
  }
}
