package io.distillery.jobs.export;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.struct;

import io.distillery.corpus.Split;
import io.distillery.dataset.ColumnType;
import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.jobs.spark.HadoopFiles;
import io.distillery.jobs.stage.StageContext;
import io.distillery.settings.Named;
import io.distillery.settings.Settings;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A run's corpus of completions (teacher-completions) in the forms fine-tuning tools read, written by the executors
 * partition by partition: JSONL (one object a line) or Parquet, in chat style (OpenAI's fine-tuning format:
 * {@code {"messages": [{"role": "user", ...}, {"role": "assistant", ...}]}}) or completion style
 * ({@code {"prompt": ..., "completion": ...}}), optionally with every provenance column beside them.
 */
public final class CorpusExport {
  private static final Logger LOG = LoggerFactory.getLogger(CorpusExport.class);
  public static final String MESSAGES = "messages";
  public static final String PROMPT = "prompt";

  private CorpusExport() {}

  /** The file format. */
  public enum Format implements Named {
    JSONL, PARQUET
  }

  /** How a prompt and its completion are laid out. */
  public enum Style implements Named {
    /** {@code messages}: the prompt as the user's message, the completion as the assistant's. */
    CHAT,
    /** {@code prompt} and {@code completion}. */
    COMPLETION
  }

  /**
   * @param split only this split's rows, or all
   * @param provenance with every column of teacher-completions but the packed token columns (teacher, model hash,
   *     terms, sampling parameters and seed, finish reason, ...)
   * @param output a directory (local, hdfs:// or any Hadoop file system) that must not exist yet
   */
  public record Request(Format format, Style style, boolean provenance, Optional<Split> split, String output) {}

  /** Writes the export; returns the rows written. */
  public static long export(Settings settings, SparkSession spark, Request request) {
    if (HadoopFiles.exists(spark, request.output())) {
      throw new IllegalStateException("The export's output " + request.output() + " already exists: choose another "
          + "--output, or remove it first");
    }
    StageContext ctx = StageContext.of(settings, spark);
    if (!ctx.has(DatasetKind.TEACHER_COMPLETIONS)) {
      throw new IllegalStateException("Run '" + settings.run().id() + "' has no " + ctx.describe(
          DatasetKind.TEACHER_COMPLETIONS) + ": export writes a language-model run's corpus (task language-model); "
          + "run its generate stage first, e.g. bin/distillery generate --config conf/examples/stories-corpus.conf");
    }
    Dataset<Row> rows = ctx.read(DatasetKind.TEACHER_COMPLETIONS);
    if (request.split().isPresent()) {
      rows = rows.where(col(Cols.SPLIT).equalTo(request.split().get().label()));
    }
    List<Column> columns = new ArrayList<>();
    if (request.style() == Style.CHAT) {
      columns.add(array(message("user", col(Cols.TEXT)), message("assistant", col(Cols.COMPLETION))).as(MESSAGES));
    } else {
      columns.add(col(Cols.TEXT).as(PROMPT));
      columns.add(col(Cols.COMPLETION));
    }
    if (request.provenance()) {
      for (io.distillery.dataset.Column c : DatasetKind.TEACHER_COMPLETIONS.columns()) {
        boolean payload = c.name().equals(Cols.TEXT) || c.name().equals(Cols.COMPLETION);
        if (!payload && c.type() != ColumnType.BINARY) {
          columns.add(col(c.name()));
        }
      }
    }
    long expected = rows.count();
    Dataset<Row> out = rows.orderBy(Cols.ROW_ID).select(columns.toArray(Column[]::new));
    var writer = out.write().mode(SaveMode.ErrorIfExists);
    if (request.format() == Format.JSONL) {
      writer.json(request.output());
    } else {
      writer.parquet(request.output());
    }
    long written = spark.read().format(request.format() == Format.JSONL ? "json" : "parquet").load(request.output())
        .count();
    if (written != expected) {
      throw new IllegalStateException("The export of run '" + settings.run().id() + "' to " + request.output()
          + " holds " + written + " rows, the corpus " + expected + "; remove it and export again");
    }
    LOG.info("Exported {} rows of run '{}' to {} ({}, {})", written, settings.run().id(), request.output(),
        request.format(), request.style());
    return written;
  }

  private static Column message(String role, Column content) {
    return struct(lit(role).as("role"), content.as("content"));
  }
}
