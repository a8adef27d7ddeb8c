package io.distillery.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.distillery.corpus.PromptPreparer;
import io.distillery.corpus.Split;
import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.jobs.pipeline.Pipeline;
import io.distillery.jobs.stage.StageContext;
import io.distillery.jobs.transparency.Transparency;
import io.distillery.run.Stage;
import io.distillery.run.StageManifest;
import io.distillery.settings.PromptTemplate;
import io.distillery.settings.Settings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Ingest from a user's corpus (the shipped JSONL example, and plain text), accounting for every sentence. */
class UserCorpusIngestTest {
  @TempDir
  Path root;

  private Settings settings;

  private Map<Stage, StageManifest> ingest(Map<String, String> corpus) {
    Map<String, String> o = TestRuns.small(root, "user-corpus");
    o.put("distillery.corpus.spans-per-sentence", "0");
    o.putAll(corpus);
    settings = TestRuns.settings(o);
    SparkSession spark = TestRuns.spark(settings);
    return Pipeline.run(settings, spark, List.of(Stage.INGEST), true);
  }

  @Test
  void jsonlCorpusIsSplitTriagedAndDeduplicated() {
    Path sample = Path.of(System.getProperty("test.repo.root", ".."), "conf/examples/sample-corpus.jsonl");
    Map<String, Long> c = ingest(Map.of("distillery.corpus.source", "jsonl",
        "distillery.corpus.path", sample.toString(), "distillery.corpus.column", "body"))
        .get(Stage.INGEST).counts();
    assertEquals(6L, c.get("documents_read"));
    assertEquals(1L, c.get("documents_other_language"), c.toString()); // the German one
    assertEquals(1L, c.get("duplicates"), c.toString()); // row 6 repeats row 1's first sentence
    assertEquals(4L, c.get("written"), c.toString());
    assertEquals(c.get("sentences"), c.get("written") + c.get("duplicates") + c.get("quarantined"));
    assertEquals(1L, c.get("quarantined_empty"), c.toString());
    assertEquals(1L, c.get("quarantined_too_long"), c.toString());
    assertEquals(1L, c.get("quarantined_too_short"), c.toString()); // "Ok."
    SparkSession spark = SparkSession.active();
    List<String> refs = TestRuns.read(spark, settings, DatasetKind.PROMPTS)
        .select(Cols.SOURCE_REF).as(Encoders.STRING()).collectAsList();
    assertTrue(refs.stream().allMatch(r -> r.contains("sample-corpus.jsonl")), refs.toString());
  }

  @Test
  void textCorpusWorksTheSameWay() throws Exception {
    Path text = Files.writeString(root.resolve("corpus.txt"),
        "The vote on the budget will take place tomorrow at noon.\n\nFarmers need fair prices for their products.\n");
    Map<String, Long> c = ingest(Map.of("distillery.corpus.source", "text",
        "distillery.corpus.path", text.toString())).get(Stage.INGEST).counts();
    assertEquals(3L, c.get("documents_read"));
    assertEquals(2L, c.get("written"));
    assertEquals(1L, c.get("quarantined_empty"));
  }

  @Test
  void trainingOnlyTextIsTrainedOnNeverHeldOutAndNeverSpanned() throws Exception {
    List<String> corpus = new ArrayList<>();
    List<String> general = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      corpus.add("Member state " + i + " asks the Commission about the budget.");
      general.add("A dog number " + i + " runs across the wide green field.");
    }
    List<String> extra = new ArrayList<>(general);
    extra.addAll(corpus); // the corpus's sentences again: the held-out ones must stay held out
    Path main = Files.write(root.resolve("corpus.txt"), corpus);
    Path more = Files.write(root.resolve("general.txt"), extra);
    StageManifest m = ingest(Map.of("distillery.corpus.source", "text", "distillery.corpus.path", main.toString(),
        "distillery.corpus.spans-per-sentence", "1", "distillery.corpus.training-only.path", more.toString()))
        .get(Stage.INGEST);
    Map<String, Long> c = m.counts();
    assertEquals(more.toString(), m.details().get("training_only"));
    assertEquals(180L, c.get("documents_read"), c.toString());
    assertEquals(180L, c.get("sentences"), c.toString());
    Map<String, String> splits = new HashMap<>();
    Map<String, String> refs = new HashMap<>();
    for (Row r : TestRuns.read(SparkSession.active(), settings, DatasetKind.PROMPTS)
        .select(Cols.TEXT, Cols.SPLIT, Cols.SOURCE_REF).collectAsList()) {
      splits.put(r.getString(0), r.getString(1));
      refs.put(r.getString(0), r.getString(2));
    }
    int heldOut = 0;
    for (String t : corpus) {
      String split = Split.of(PromptPreparer.rowId(t), settings.corpus()).label();
      assertEquals(split, splits.get(t), t);
      heldOut += split.equals(Split.TRAIN.label()) ? 0 : 1;
    }
    assertTrue(heldOut > 0, "some of the corpus is held out");
    for (String t : general) {
      assertEquals(Split.TRAIN.label(), splits.get(t), t);
    }
    assertTrue(refs.values().stream().filter(r -> r.contains("#span-of:")).noneMatch(r -> r.contains("general.txt")),
        "spans only of the corpus's sentences");
    long spans = refs.values().stream().filter(r -> r.contains("#span-of:")).count();
    assertEquals(c.get("spans"), spans + c.get("duplicates") - 60, c.toString());
    assertEquals(60 + 60 + spans, c.get("written"), c.toString());
    // The transparency report names the training-only text among the run's sources.
    SparkSession spark = SparkSession.active();
    Pipeline.run(settings, spark, List.of(Stage.GENERATE), true);
    List<String> other = Transparency.write(StageContext.of(settings, spark)).euPublicSummary().dataSources()
        .otherSources();
    assertTrue(other.stream().anyMatch(line -> line.startsWith("Training-only text at " + more + " ")), other
        .toString());
  }

  @Test
  void parquetCorpusWorksTheSameWay() {
    Path sample = Path.of(System.getProperty("test.repo.root", ".."), "conf/examples/sample-corpus.jsonl");
    SparkSession spark = TestRuns.spark(TestRuns.settings(TestRuns.small(root, "user-corpus")));
    Path parquet = root.resolve("corpus.parquet");
    spark.read().json(sample.toString()).write().parquet(parquet.toString());
    Map<String, Long> c = ingest(Map.of("distillery.corpus.source", "parquet",
        "distillery.corpus.path", parquet.toString(), "distillery.corpus.column", "body"))
        .get(Stage.INGEST).counts();
    assertEquals(6L, c.get("documents_read"));
    assertEquals(4L, c.get("written"), c.toString());
    assertEquals(c.get("sentences"), c.get("written") + c.get("duplicates") + c.get("quarantined"));
  }

  @Test
  void aMissingColumnNamesTheColumnsThatExist() {
    Path sample = Path.of(System.getProperty("test.repo.root", ".."), "conf/examples/sample-corpus.jsonl");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ingest(Map.of(
        "distillery.corpus.source", "jsonl", "distillery.corpus.path", sample.toString(),
        "distillery.corpus.column", "text")));
    assertTrue(e.getMessage().contains("distillery.corpus.column = 'text'") && e.getMessage().contains("body"),
        e.getMessage());
  }

  @Test
  void aTemplateFilledFromASeedTableIsOnePromptPerRowRecordingTheTemplate() throws Exception {
    Path repo = Path.of(System.getProperty("test.repo.root", ".."));
    Path seeds = repo.resolve("conf/examples/story-seeds.jsonl");
    settings = Settings.load(Optional.of(repo.resolve("conf/examples/stories-template.conf")), Map.of(
        "distillery.run.root", root.toUri().toString(), "distillery.spark.master", "local[2]",
        "distillery.corpus.path", seeds.toString()));
    SparkSession spark = TestRuns.spark(settings);
    StageManifest m = Pipeline.run(settings, spark, List.of(Stage.INGEST), true).get(Stage.INGEST);
    List<String> lines = Files.readAllLines(seeds);
    assertEquals(lines.size(), m.counts().get("written"), m.counts().toString());
    PromptTemplate template = settings.corpus().template();
    assertEquals(template.reference(), m.details().get("template"));
    ObjectMapper json = new ObjectMapper();
    Set<String> expected = new HashSet<>();
    for (String line : lines) {
      JsonNode seed = json.readTree(line);
      expected.add("Once upon a time, there was a little " + seed.get("animal").asText() + " named "
          + seed.get("name").asText() + ". One day, " + seed.get("name").asText() + " went to "
          + seed.get("place").asText() + ".");
    }
    List<Row> prompts = TestRuns.read(spark, settings, DatasetKind.PROMPTS).collectAsList();
    assertEquals(expected, prompts.stream().map(r -> r.<String>getAs(Cols.TEXT)).collect(Collectors.toSet()));
    assertTrue(prompts.stream().allMatch(r -> r.<String>getAs(Cols.SOURCE_REF).startsWith(
        "template:story-opener-v1@" + template.hash() + " ")), prompts.get(0).toString());

    Settings missing = Settings.load(Optional.of(repo.resolve("conf/examples/stories-template.conf")), Map.of(
        "distillery.run.root", root.toUri().toString(), "distillery.spark.master", "local[2]",
        "distillery.corpus.path", seeds.toString(), "distillery.corpus.template.text", "A {colour} {animal}."));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Pipeline.run(missing, spark, List.of(Stage.INGEST), true));
    assertTrue(e.getMessage().contains("[colour]") && e.getMessage().contains("animal"), e.getMessage());
  }
}
