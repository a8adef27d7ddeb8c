package io.distillery.jobs.ingest;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.coalesce;
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
import io.distillery.dataset.RunLayout;
import io.distillery.dataset.Stage;
import io.distillery.dataset.StageManifest;
import io.distillery.jobs.Datasets;
import io.distillery.jobs.StageJob;
import io.distillery.jobs.StageResult;
import io.distillery.jobs.Stages;
import io.distillery.jobs.task.Iterators;
import io.distillery.settings.Settings;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

/**
 * Stage 1, ingest: corpus documents to the prompts dataset. Keeps the languages the teacher serves, splits
 * into sentences, gives each a content-hash row id and a train/validation/test split, removes duplicates,
 * adds training-only word windows ({@link Spans}), and sends bad sentences to the quarantine dataset with
 * their reason. Accounting, checked: sentences + spans = prompts written + duplicates + quarantined.
 */
public final class IngestJob implements StageJob {
  static final String STATUS = "status";
  static final StructType DOCUMENT = new StructType()
      .add(Cols.SOURCE_REF, DataTypes.StringType, false)
      .add(Cols.TEXT, DataTypes.StringType, true)
      .add(Cols.GOLD_LABEL, DataTypes.StringType, false);
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
  public StageResult run(Settings settings, SparkSession spark, Map<Stage, StageManifest> upstream) {
    RunLayout layout = Stages.layout(settings);
    Dataset<Row> documents = documents(settings, spark);
    Dataset<Row> candidates = documents
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
      Datasets.write(prompts, DatasetKind.PROMPTS, layout);
      Datasets.write(candidates.where(col(STATUS).equalTo(PromptCandidate.Status.QUARANTINED.name()))
          .withColumn(Cols.STAGE, lit(Stage.INGEST.label())), DatasetKind.QUARANTINE, layout);
      return StageResult.of(accounting(spark, candidates, layout), Map.of(
          "corpus", settings.corpus().source().equals("europarl") ? Europarl.RESOURCE : settings.corpus().path(),
          "languages", settings.corpus().languages()));
    } finally {
      candidates.unpersist();
    }
  }

  private static Map<String, Long> accounting(SparkSession spark, Dataset<Row> candidates, RunLayout layout) {
    Row totals = candidates.agg(
        countDistinct(when(col(STATUS).notEqual(PromptCandidate.Status.SPAN.name()), col(Cols.SOURCE_REF)))
            .as("documents_read"),
        count(when(col(STATUS).equalTo(PromptCandidate.Status.OTHER_LANGUAGE.name()), 1))
            .as("documents_other_language"),
        count(when(col(STATUS).equalTo(PromptCandidate.Status.PROMPT.name()), 1)).as("prompt_sentences"),
        count(when(col(STATUS).equalTo(PromptCandidate.Status.SPAN.name()), 1)).as("spans"),
        count(when(col(STATUS).equalTo(PromptCandidate.Status.QUARANTINED.name()), 1)).as("quarantined"))
        .first();
    Map<String, Long> counts = new TreeMap<>();
    for (String f : totals.schema().fieldNames()) {
      counts.put(f, totals.getAs(f));
    }
    Dataset<Row> written = Datasets.read(spark, DatasetKind.PROMPTS, layout);
    long writtenRows = 0;
    for (Row r : written.groupBy(Cols.SPLIT).count().collectAsList()) { // at most 3 rows: one per split
      counts.put("written_" + r.getString(0), r.getLong(1));
      writtenRows += r.getLong(1);
    }
    for (Row r : Datasets.read(spark, DatasetKind.QUARANTINE, layout).groupBy(Cols.REASON).count().collectAsList()) {
      counts.put("quarantined_" + r.getString(0), r.getLong(1));
    }
    long sentences = counts.get("prompt_sentences") + counts.get("quarantined");
    counts.put("sentences", sentences);
    counts.put("written", writtenRows);
    counts.put("duplicates", counts.get("prompt_sentences") + counts.get("spans") - writtenRows);
    counts.remove("prompt_sentences");
    if (sentences + counts.get("spans") != writtenRows + counts.get("duplicates") + counts.get("quarantined")
        || counts.get("duplicates") < 0) {
      throw new IllegalStateException("Ingest accounting does not add up: " + counts);
    }
    if (writtenRows == 0) {
      throw new IllegalStateException("Ingest produced no prompts (" + counts + "). Check corpus.languages, "
          + "corpus.min-words/max-words and the corpus path; the quarantine dataset at "
          + layout.partition(DatasetKind.QUARANTINE) + " says why sentences were rejected.");
    }
    return counts;
  }

  /** Corpus documents as (source_ref, text). */
  static Dataset<Row> documents(Settings settings, SparkSession spark) {
    Settings.Corpus corpus = settings.corpus();
    int shards = settings.spark().partitions();
    if (corpus.source().equals("europarl")) {
      return spark.range(0, shards, 1, shards)
          .flatMap(new ReadEuroparlShard(shards, corpus.maxDocuments()), Encoders.row(DOCUMENT));
    }
    Dataset<Row> raw = switch (corpus.source()) {
      case "text" -> spark.read().text(corpus.path()).withColumnRenamed("value", corpus.column());
      case "jsonl" -> spark.read().json(corpus.path());
      case "parquet" -> spark.read().parquet(corpus.path());
      default -> throw new IllegalArgumentException("unknown corpus.source " + corpus.source());
    };
    if (!Arrays.asList(raw.columns()).contains(corpus.column())) {
      throw new IllegalArgumentException("distillery.corpus.column = '" + corpus.column() + "' is not a column of "
          + corpus.path() + "; its columns are " + Arrays.toString(raw.columns()));
    }
    if (!corpus.labelColumn().isEmpty() && !Arrays.asList(raw.columns()).contains(corpus.labelColumn())) {
      throw new IllegalArgumentException("distillery.corpus.label-column = '" + corpus.labelColumn()
          + "' is not a column of " + corpus.path() + "; its columns are " + Arrays.toString(raw.columns()));
    }
    Dataset<Row> docs = raw.select(
        concat_ws(":", input_file_name(), monotonically_increasing_id()).as(Cols.SOURCE_REF),
        col(corpus.column()).cast(DataTypes.StringType).as(Cols.TEXT),
        corpus.labelColumn().isEmpty() ? lit("").as(Cols.GOLD_LABEL)
            : coalesce(trim(col(corpus.labelColumn()).cast(DataTypes.StringType)), lit("")).as(Cols.GOLD_LABEL));
    return corpus.maxDocuments() > 0 ? docs.limit(corpus.maxDocuments()) : docs;
  }

  /** Executor side: reads one shard of the Europarl resource from the executor's own classpath. */
  record ReadEuroparlShard(int shards, int maxDocuments) implements FlatMapFunction<Long, Row> {

    @Override
    public Iterator<Row> call(Long shard) {
      List<Row> docs = new ArrayList<>();
      Europarl.read(shard.intValue(), shards, maxDocuments,
          (line, body) -> docs.add(RowFactory.create("europarl:" + line, body, "")));
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
        String ref = doc.getString(0);
        String gold = doc.getString(2);
        return preparer.prepare(doc.getString(1), detector).stream().flatMap(c -> {
          if (c.status() != PromptCandidate.Status.PROMPT) {
            return Stream.of(RowFactory.create(c.status().name(), c.rowId(), c.text(), c.language(), ref, "", gold,
                c.reason()));
          }
          Split split = Split.of(c.rowId(), spec);
          Row prompt = RowFactory.create(c.status().name(), c.rowId(), c.text(), c.language(), ref, split.label(),
              gold, "");
          if (split != Split.TRAIN) {
            return Stream.of(prompt);
          }
          return Stream.concat(Stream.of(prompt), Spans.of(c.text(), c.rowId(), spec.spansPerSentence(),
              spec.minWords()).stream().map(span -> RowFactory.create(PromptCandidate.Status.SPAN.name(),
              PromptPreparer.rowId(span), span, c.language(), ref + "#span-of:" + c.rowId(), split.label(), gold,
              "")));
        });
      });
    }
  }
}
