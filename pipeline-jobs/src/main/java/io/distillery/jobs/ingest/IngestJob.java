package io.distillery.jobs.ingest;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.concat_ws;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.countDistinct;
import static org.apache.spark.sql.functions.first;
import static org.apache.spark.sql.functions.input_file_name;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.monotonically_increasing_id;
import static org.apache.spark.sql.functions.trim;
import static org.apache.spark.sql.functions.when;

import io.distillery.corpus.Europarl;
import io.distillery.corpus.LanguageDetector;
import io.distillery.corpus.PromptCandidate;
import io.distillery.corpus.PromptPreparer;
import io.distillery.corpus.Spans;
import io.distillery.corpus.Split;
import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.jobs.spark.Iterators;
import io.distillery.jobs.spark.SparkRows;
import io.distillery.jobs.stage.StageContext;
import io.distillery.jobs.stage.StageJob;
import io.distillery.jobs.stage.StageResult;
import io.distillery.run.IngestDetails;
import io.distillery.run.Stage;
import io.distillery.run.StageManifest;
import io.distillery.settings.CorpusSource;
import io.distillery.settings.Key;
import io.distillery.settings.PromptTemplate;
import io.distillery.settings.Settings;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

/**
 * Stage 1, ingest: corpus documents to the prompts dataset. Keeps the languages the teacher serves, splits into
 * sentences, gives each a content-hash row id and a train/validation/test split, removes duplicates, adds
 * training-only word windows ({@link Spans}), and sends bad sentences to the quarantine dataset with their reason.
 * Accounting, checked ({@link IngestAccounting}): sentences + spans = prompts written + duplicates + quarantined.
 */
public final class IngestJob implements StageJob {
  static final String STATUS = "status";
  /** Whether a document is the corpus's or training-only text (corpus.training-only). */
  static final String TRAINING_ONLY = "training_only";
  static final StructType DOCUMENT = new StructType()
      .add(Cols.SOURCE_REF, DataTypes.StringType, false)
      .add(Cols.TEXT, DataTypes.StringType, true)
      .add(Cols.GOLD_LABEL, DataTypes.StringType, false);
  /** One outcome of preparing a document: a prompt, a span, a quarantined sentence or a skipped document. */
  static final StructType CANDIDATE = new StructType()
      .add(STATUS, DataTypes.StringType, false)
      .add(Cols.ROW_ID, DataTypes.StringType, false)
      .add(Cols.TEXT, DataTypes.StringType, false)
      .add(Cols.LANGUAGE, DataTypes.StringType, false)
      .add(Cols.SOURCE_REF, DataTypes.StringType, false)
      .add(Cols.SPLIT, DataTypes.StringType, false)
      .add(Cols.GOLD_LABEL, DataTypes.StringType, false)
      .add(Cols.REASON, DataTypes.StringType, false);

  @Override
  public Stage stage() {
    return Stage.INGEST;
  }

  @Override
  public StageResult run(StageContext ctx, Map<Stage, StageManifest> upstream) {
    Settings settings = ctx.settings();
    Dataset<Row> candidates = documents(settings, ctx.spark())
        .mapPartitions(new PrepareDocuments(settings.corpus()), Encoders.row(CANDIDATE))
        .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      // One row per text. If a span repeats a held-out sentence, the held-out split wins, so nothing the
      // evaluation scores is ever trained on.
      Dataset<Row> prompts = candidates.where(col(STATUS).isin(PromptCandidate.Status.PROMPT.name(),
              PromptCandidate.Status.SPAN.name()))
          .groupBy(Cols.ROW_ID)
          .agg(first(Cols.TEXT).as(Cols.TEXT), min(Cols.LANGUAGE).as(Cols.LANGUAGE),
              min(Cols.SOURCE_REF).as(Cols.SOURCE_REF), max(Cols.GOLD_LABEL).as(Cols.GOLD_LABEL),
              when(max(when(col(Cols.SPLIT).equalTo(Split.TEST.label()), 1)).isNotNull(), Split.TEST.label())
                  .when(max(when(col(Cols.SPLIT).equalTo(Split.VALIDATION.label()), 1)).isNotNull(),
                      Split.VALIDATION.label())
                  .otherwise(Split.TRAIN.label()).as(Cols.SPLIT))
          .repartition(settings.spark().partitions());
      ctx.write(prompts, DatasetKind.PROMPTS);
      ctx.write(candidates.where(col(STATUS).equalTo(PromptCandidate.Status.QUARANTINED.name()))
          .withColumn(Cols.STAGE, lit(Stage.INGEST.label())), DatasetKind.QUARANTINE);
      IngestAccounting accounting = accounting(ctx, candidates);
      accounting.check();
      if (accounting.written() == 0) {
        throw new IllegalStateException("Ingest produced no prompts (" + accounting.counts() + "). Check "
            + Settings.Corpus.LANGUAGES.path() + ", " + Settings.Corpus.MIN_WORDS.path() + "/"
            + Settings.Corpus.MAX_WORDS.path() + " and the corpus path; the quarantine dataset at "
            + ctx.describe(DatasetKind.QUARANTINE) + " says why sentences were rejected.");
      }
      PromptTemplate template = settings.corpus().template();
      return StageResult.of(accounting.counts(), new IngestDetails(
          settings.corpus().source() == CorpusSource.EUROPARL ? Europarl.RESOURCE : settings.corpus().path(),
          settings.corpus().languages(), template.present() ? template.reference() : null,
          template.present() ? template.text() : null,
          settings.corpus().trainingOnly().present() ? settings.corpus().trainingOnly().path() : null));
    } finally {
      candidates.unpersist();
    }
  }

  /** What was prepared (from the candidates) beside what was written (read back from the datasets). */
  private static IngestAccounting accounting(StageContext ctx, Dataset<Row> candidates) {
    String prompt = PromptCandidate.Status.PROMPT.name();
    String span = PromptCandidate.Status.SPAN.name();
    Row totals = candidates.agg(
        countDistinct(when(col(STATUS).notEqual(span), col(Cols.SOURCE_REF))),
        count(when(col(STATUS).equalTo(PromptCandidate.Status.OTHER_LANGUAGE.name()), 1)),
        count(when(col(STATUS).equalTo(prompt), 1)),
        count(when(col(STATUS).equalTo(span), 1)),
        countDistinct(when(col(STATUS).isin(prompt, span), col(Cols.ROW_ID))),
        count(when(col(STATUS).equalTo(PromptCandidate.Status.QUARANTINED.name()), 1)))
        .first();
    return new IngestAccounting(totals.getLong(0), totals.getLong(1), totals.getLong(2), totals.getLong(3),
        totals.getLong(4), totals.getLong(5), countBy(ctx.read(DatasetKind.PROMPTS), Cols.SPLIT),
        countBy(ctx.read(DatasetKind.QUARANTINE), Cols.REASON));
  }

  /** Rows per value of a column with few values (splits, quarantine reasons): one row each reaches the driver. */
  private static Map<String, Long> countBy(Dataset<Row> rows, String column) {
    Map<String, Long> counts = new TreeMap<>();
    rows.groupBy(column).count().collectAsList().forEach(r -> counts.put(r.getString(0), r.getLong(1)));
    return counts;
  }

  /** Corpus documents, then any training-only text, as (source_ref, text, gold_label, training_only). */
  static Dataset<Row> documents(Settings settings, SparkSession spark) {
    Dataset<Row> docs = corpusDocuments(settings, spark).withColumn(TRAINING_ONLY, lit(false));
    Settings.Corpus.TrainingOnly extra = settings.corpus().trainingOnly();
    if (!extra.present()) {
      return docs;
    }
    Dataset<Row> raw = table(spark, extra.source(), extra.path(), extra.column());
    requireColumn(raw, Settings.Corpus.TrainingOnly.COLUMN, extra.column(), extra.path());
    return docs.unionByName(raw.select(fileRowRef().as(Cols.SOURCE_REF),
        col(extra.column()).cast(DataTypes.StringType).as(Cols.TEXT), lit("").as(Cols.GOLD_LABEL),
        lit(true).as(TRAINING_ONLY)));
  }

  /** A document's source_ref in a file-backed source: the file and the row's id. */
  private static Column fileRowRef() {
    return concat_ws(":", input_file_name(), monotonically_increasing_id());
  }

  /** A text, jsonl or parquet source as a table, a text file's lines in {@code column}. */
  private static Dataset<Row> table(SparkSession spark, CorpusSource source, String path, String column) {
    return switch (source) {
      case TEXT -> spark.read().text(path).withColumnRenamed("value", column);
      case JSONL -> spark.read().json(path);
      case PARQUET -> spark.read().parquet(path);
      case EUROPARL -> throw new IllegalArgumentException("Europarl is read from the classpath, not " + path);
    };
  }

  private static void requireColumn(Dataset<Row> raw, Key<String> key, String column, String path) {
    if (!Arrays.asList(raw.columns()).contains(column)) {
      throw new IllegalArgumentException(key.full() + " = '" + column + "' is not a column of " + path
          + "; its columns are " + Arrays.toString(raw.columns()));
    }
  }

  /** The corpus's documents as (source_ref, text, gold_label). */
  private static Dataset<Row> corpusDocuments(Settings settings, SparkSession spark) {
    Settings.Corpus corpus = settings.corpus();
    int shards = settings.spark().partitions();
    if (corpus.source() == CorpusSource.EUROPARL) { // already documents, the shards bounded by max-documents
      return spark.range(0, shards, 1, shards)
          .flatMap(new ReadEuroparlShard(shards, corpus.maxDocuments()), Encoders.row(DOCUMENT));
    }
    Dataset<Row> raw = table(spark, corpus.source(), corpus.path(), corpus.column());
    if (!corpus.template().present()) {
      requireColumn(raw, Settings.Corpus.COLUMN, corpus.column(), corpus.path());
    }
    if (!corpus.labelColumn().isEmpty()) {
      requireColumn(raw, Settings.Corpus.LABEL_COLUMN, corpus.labelColumn(), corpus.path());
    }
    Column ref = fileRowRef();
    Column text = col(corpus.column()).cast(DataTypes.StringType);
    if (corpus.template().present()) {
      PromptTemplate template = corpus.template();
      List<String> missing = template.slots().stream().filter(s -> !Arrays.asList(raw.columns()).contains(s))
          .toList();
      if (!missing.isEmpty()) {
        throw new IllegalArgumentException("The template '" + template.id() + "' has slots " + missing + " that are "
            + "not columns of " + corpus.path() + "; its columns are " + Arrays.toString(raw.columns()));
      }
      // concat is null when a slot is null: the prompt is then empty and quarantined as such.
      text = concat(template.parts().stream().map(p -> p.slot() == null ? lit(p.literal())
          : col(p.slot()).cast(DataTypes.StringType)).toArray(Column[]::new));
      ref = concat_ws(" ", lit(template.reference()), ref);
    }
    Dataset<Row> docs = raw.select(ref.as(Cols.SOURCE_REF), text.as(Cols.TEXT),
        corpus.labelColumn().isEmpty() ? lit("").as(Cols.GOLD_LABEL)
            : coalesce(trim(col(corpus.labelColumn()).cast(DataTypes.StringType)), lit("")).as(Cols.GOLD_LABEL));
    return corpus.maxDocuments() > 0 ? docs.limit(corpus.maxDocuments()) : docs;
  }

  /** Executor side: reads one shard of the Europarl resource from the executor's own classpath. */
  record ReadEuroparlShard(int shards, int maxDocuments) implements FlatMapFunction<Long, Row> {
    @Override
    public Iterator<Row> call(Long shard) {
      List<Row> docs = new ArrayList<>();
      Europarl.read(shard.intValue(), shards, maxDocuments, (line, body) -> docs.add(SparkRows.of(DOCUMENT,
          Map.of(Cols.SOURCE_REF, "europarl:" + line, Cols.TEXT, body, Cols.GOLD_LABEL, ""))));
      return docs.iterator();
    }
  }

  /** Executor side: language detection, sentence splitting and triage, streamed per partition. */
  record PrepareDocuments(Settings.Corpus spec) implements MapPartitionsFunction<Row, Row> {
    @Override
    public Iterator<Row> call(Iterator<Row> documents) {
      PromptPreparer preparer = new PromptPreparer(spec);
      LanguageDetector detector = spec.languages().isEmpty() ? null : LanguageDetector.shared();
      return Iterators.flatMap(documents, doc -> {
        String ref = doc.getAs(Cols.SOURCE_REF);
        String gold = doc.getAs(Cols.GOLD_LABEL);
        boolean trainingOnly = doc.getAs(TRAINING_ONLY);
        return preparer.prepare(doc.getAs(Cols.TEXT), detector).stream().flatMap(c -> {
          if (c.status() != PromptCandidate.Status.PROMPT) {
            return Stream.of(candidate(c.status(), c.rowId(), c.text(), c.language(), ref, "", gold, c.reason()));
          }
          Split split = trainingOnly ? Split.TRAIN : Split.of(c.rowId(), spec);
          Row prompt = candidate(c.status(), c.rowId(), c.text(), c.language(), ref, split.label(), gold, "");
          if (split != Split.TRAIN || trainingOnly) {
            return Stream.of(prompt);
          }
          return Stream.concat(Stream.of(prompt), Spans.of(c.text(), c.rowId(), spec.spansPerSentence(),
              spec.minWords()).stream().map(s -> candidate(PromptCandidate.Status.SPAN, PromptPreparer.rowId(s), s,
              c.language(), ref + "#span-of:" + c.rowId(), split.label(), gold, "")));
        });
      });
    }

    private static Row candidate(PromptCandidate.Status status, String rowId, String text, String language,
        String sourceRef, String split, String gold, String reason) {
      Map<String, Object> values = new HashMap<>();
      values.put(STATUS, status.name());
      values.put(Cols.ROW_ID, rowId);
      values.put(Cols.TEXT, text);
      values.put(Cols.LANGUAGE, language);
      values.put(Cols.SOURCE_REF, sourceRef);
      values.put(Cols.SPLIT, split);
      values.put(Cols.GOLD_LABEL, gold);
      values.put(Cols.REASON, reason);
      return SparkRows.of(CANDIDATE, values);
    }
  }
}
