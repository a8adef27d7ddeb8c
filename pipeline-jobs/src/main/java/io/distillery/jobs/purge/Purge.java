package io.distillery.jobs.purge;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.evaluation.Report;
import io.distillery.jobs.evaluate.Promotions;
import io.distillery.jobs.generate.CacheCompaction;
import io.distillery.jobs.generate.ResponseCache;
import io.distillery.jobs.spark.HadoopFiles;
import io.distillery.jobs.spark.Tables;
import io.distillery.jobs.stage.StageContext;
import io.distillery.jobs.stage.Stages;
import io.distillery.run.EvaluationRecord;
import io.distillery.run.RunLayout;
import io.distillery.run.Stage;
import io.distillery.run.StageManifest;
import io.distillery.run.TableSnapshot;
import io.distillery.run.Taint;
import io.distillery.settings.Named;
import io.distillery.settings.Settings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.iceberg.Table;
import org.apache.iceberg.actions.ExpireSnapshots;
import org.apache.iceberg.spark.actions.SparkActions;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code distillery purge}: removes a teacher's answers (by teacher, by terms, or made before a date) from every
 * dataset of every run under the root, and what follows from them:
 * <ol>
 *   <li>finds the matching rows in each run's teacher datasets, at the snapshots the runs' manifests record;</li>
 *   <li>drops their answers from the response cache (a compaction without them), so no later run reads them back;</li>
 *   <li>taints every model trained on them (its card, its evaluation, its promotions: it cannot be promoted, and
 *       the promoted one is flagged);</li>
 *   <li>rewrites each affected run's partition without them, one Iceberg commit per partition (a reader, or a purge
 *       killed half-way, sees the old partition or the new one), then records the new snapshot and the rows removed
 *       in the run's generate manifest (so {@code run} trains again without them);</li>
 *   <li>moves the other runs' recorded snapshots that still list the old files onto the current one (their rows are
 *       the same), and expires every snapshot no run refers to, deleting the old files for good.</li>
 * </ol>
 * Each step can be done again: a purge re-run after being killed finds what is left and finishes it. The audit log
 * (ROOT/audit/purges.jsonl) gets a line when a purge starts and one when it is done: who, when, what, the counts.
 */
public final class Purge {
  private static final Logger LOG = LoggerFactory.getLogger(Purge.class);
  /** Fault injection for the killed-purge test: halt the JVM after this many partition commits. */
  static final String HALT_AFTER_COMMITS = "io.distillery.test.purge-halt-after-commits";

  private Purge() {}

  /** What a purge selects. */
  public enum By implements Named {
    /** Every answer of the teacher of that name (teacher.name as the rows record it). */
    TEACHER,
    /** Every answer that came under the terms of that id. */
    TERMS,
    /** Every answer the teacher made before that date (yyyy-MM-dd, UTC, or an ISO-8601 instant). */
    BEFORE;

    Column predicate(String value) {
      return switch (this) {
        case TEACHER -> col(Cols.TEACHER_NAME).equalTo(value);
        case TERMS -> col(Cols.TERMS).equalTo(value);
        case BEFORE -> col(Cols.CREATED_AT).lt(lit(Timestamp.from(instant(value))));
      };
    }

    /** The date or instant a {@code --before} value names. */
    static Instant instant(String value) {
      try {
        return value.contains("T") ? Instant.parse(value)
            : LocalDate.parse(value).atStartOfDay(ZoneOffset.UTC).toInstant();
      } catch (DateTimeParseException e) {
        throw new IllegalArgumentException("--before takes a date (2026-11-30, UTC midnight) or an ISO-8601 instant "
            + "(2026-11-30T18:00:00Z), was '" + value + "'", e);
      }
    }
  }

  /**
   * A purge to do.
   *
   * @param who who asks for it, for the audit log
   * @param reason why, for the audit log and the taint
   */
  public record Request(By by, String value, boolean dryRun, String who, String reason) {
    public Request {
      if (value == null || value.isBlank()) {
        throw new IllegalArgumentException("purge --" + by.configName() + " needs a value");
      }
      if (by == By.BEFORE) {
        By.instant(value); // refused before anything is read
      }
    }

    public String what() {
      return by.configName() + " = " + value;
    }
  }

  /**
   * What a purge did (or, dry, would do).
   *
   * @param rows the matching rows, by run and dataset
   * @param cacheEntries answers dropped from the response cache
   * @param tainted the runs whose models learnt from the rows
   * @param promotedTainted whether the promoted student is one of them
   * @param rebased runs moved, rows unchanged, onto a snapshot without the purged files
   * @param dataFilesDeleted files deleted by expiring the snapshots no run refers to any more
   */
  public record Outcome(String id, String what, boolean dryRun, Map<String, Map<String, Long>> rows,
      long cacheEntries, List<String> tainted, boolean promotedTainted, List<String> rebased,
      long dataFilesDeleted) {

    public long totalRows() {
      return rows.values().stream().flatMap(m -> m.values().stream()).mapToLong(Long::longValue).sum();
    }
  }

  /** One run's matching rows. */
  private record Match(String runId, StageManifest generate, Map<DatasetKind, Long> rows) {}

  public static Outcome purge(Settings settings, SparkSession spark, Request request) {
    String id = Instant.now().toString().replaceAll("[^0-9]", "").substring(0, 14) + "-"
        + UUID.randomUUID().toString().substring(0, 8);
    RunLayout root = RunLayout.of(settings.run());
    Column matches = request.by().predicate(request.value());
    List<Match> found = find(settings, spark, root, matches);
    Map<String, Map<String, Long>> rows = new TreeMap<>();
    found.forEach(m -> {
      Map<String, Long> byDataset = new TreeMap<>();
      m.rows().forEach((kind, n) -> byDataset.put(kind.directory(), n));
      rows.put(m.runId(), byDataset);
    });
    Dataset<Row> keys = requestKeys(settings, spark, root, found, matches);
    long cacheEntries = cacheEntries(spark, root, keys, request);
    if (request.dryRun()) {
      return new Outcome(id, request.what(), true, rows, cacheEntries, found.stream().map(Match::runId).toList(),
          false, List.of(), 0);
    }
    Audit audit = new Audit(spark, root);
    audit.append(Map.of("purge", id, "status", "started", "at", Instant.now().toString(), "by", request.who(),
        "reason", request.reason(), "what", request.what(), "rows", rows));
    if (cacheEntries > 0) {
      CacheCompaction.compact(spark, root.responseCache(), settings.teacher().http().cacheRetention(), Instant.now(),
          lines -> dropFromCache(lines, keys, request));
      LOG.info("Purge {}: {} answers dropped from the response cache", id, cacheEntries);
    }
    Taint taint = new Taint(id, Instant.now().toString(), request.who(), request.what() + (request.reason().isEmpty()
        ? "" : " (" + request.reason() + ")"), Map.of());
    List<String> tainted = new ArrayList<>();
    boolean promotedTainted = false;
    int commits = 0;
    for (Match m : found) {
      Taint forRun = new Taint(taint.purge(), taint.at(), taint.by(), taint.what(), rows.get(m.runId()));
      if (taintModels(spark, root.forRun(m.runId()), forRun)) {
        tainted.add(m.runId());
        promotedTainted |= new Promotions(spark, root).taint(m.runId(), modelSha(spark, root.forRun(m.runId())),
            forRun);
      }
      // The held-out scores hold the rows' texts and answers beside the student's; a retrain writes them again.
      HadoopFiles.delete(spark, root.forRun(m.runId()).heldOutScores());
      // So does the report's examples table; its metrics stay, under a notice that the student learnt from them.
      String report = root.forRun(m.runId()).report();
      if (HadoopFiles.exists(spark, report)) {
        HadoopFiles.write(spark, report, Report.withoutHeldOutRows(new String(HadoopFiles.read(spark, report),
            StandardCharsets.UTF_8), "Purge " + id + " (" + taint.what() + ", " + taint.at() + ", by " + taint.by()
            + ") removed answers of this run, which the examples quoted and this student learnt from; the next run "
            + "trains and evaluates a student without them.").getBytes(StandardCharsets.UTF_8));
      }
      StageContext run = StageContext.of(settings, spark, root.forRun(m.runId()));
      Map<String, TableSnapshot> rewritten = new TreeMap<>();
      Map<String, Long> removed = new TreeMap<>();
      for (Map.Entry<DatasetKind, Long> e : m.rows().entrySet()) {
        DatasetKind kind = e.getKey();
        TableSnapshot after = run.tables().write(run.read(kind).where(not(matches)), kind, m.runId());
        rewritten.put(kind.directory(), after);
        removed.put(kind.directory(), e.getValue());
        LOG.info("Purge {}: run '{}', {}: {} rows removed, {} left (snapshot {})", id, m.runId(), kind.directory(),
            e.getValue(), after.rows(), after.snapshotId());
        haltIfAsked(++commits);
      }
      run.writeFile(run.layout().manifest(Stage.GENERATE), m.generate().purged(rewritten, removed).toJson());
    }
    // Also when nothing matched: a purge killed after its rewrites finishes here.
    Set<DatasetKind> teacherTables = new HashSet<>();
    Tables tables = StageContext.of(settings, spark, root).tables();
    Stage.GENERATE.writes().stream().filter(k -> tables.exists(k) && tables.load(k).currentSnapshot() != null)
        .forEach(teacherTables::add);
    List<String> rebased = rebase(settings, spark, root, teacherTables);
    long deleted = expire(settings, spark, root, teacherTables);
    Outcome outcome = new Outcome(id, request.what(), false, rows, cacheEntries, tainted, promotedTainted, rebased,
        deleted);
    Map<String, Object> done = new LinkedHashMap<>();
    done.put("purge", id);
    done.put("status", "done");
    done.put("at", Instant.now().toString());
    done.put("by", request.who());
    done.put("what", request.what());
    done.put("rows", rows);
    done.put("cache_entries", cacheEntries);
    done.put("models_tainted", tainted);
    done.put("promoted_tainted", promotedTainted);
    done.put("runs_rebased", rebased);
    done.put("data_files_deleted", deleted);
    audit.append(done);
    LOG.info("Purge {} ({}) done: {} rows, {} cached answers, models tainted {}, {} files deleted", id,
        request.what(), outcome.totalRows(), cacheEntries, tainted, deleted);
    return outcome;
  }

  private static void haltIfAsked(int commits) {
    String halt = System.getProperty(HALT_AFTER_COMMITS, "");
    if (!halt.isEmpty() && commits >= Integer.parseInt(halt)) {
      LOG.warn("Halting after {} partition commits ({})", commits, HALT_AFTER_COMMITS);
      Runtime.getRuntime().halt(137);
    }
  }

  /** Every run under the root with a generate manifest, and its teacher datasets' rows that match. */
  private static List<Match> find(Settings settings, SparkSession spark, RunLayout root, Column matches) {
    List<Match> found = new ArrayList<>();
    for (Map.Entry<String, StageManifest> e : generateManifests(settings, spark, root).entrySet()) {
      String runId = e.getKey();
      StageContext run = StageContext.of(settings, spark, root.forRun(runId));
      StageManifest generate = e.getValue();
      if (generate.tables() == null) {
        LOG.warn("Run '{}' was made before the datasets were tables and is not purged: import it first "
            + "(`distillery tables import --run-id {}`), then purge again", runId, runId);
        continue;
      }
      Map<DatasetKind, Long> rows = new TreeMap<>();
      for (DatasetKind kind : Stage.GENERATE.writes()) {
        if (generate.table(kind).isPresent() && selectable(kind)) {
          long n = run.read(kind).where(matches).count();
          if (n > 0) {
            rows.put(kind, n);
          }
        }
      }
      if (!rows.isEmpty()) {
        found.add(new Match(runId, generate, rows));
      }
    }
    return found;
  }

  /** Whether the dataset has the columns the selection reads (every teacher dataset names its teacher and time). */
  private static boolean selectable(DatasetKind kind) {
    return kind.column(Cols.TEACHER_NAME).isPresent() && kind.column(Cols.CREATED_AT).isPresent();
  }

  /** The generate manifest of every run under the root that finished generate, by run id. */
  private static Map<String, StageManifest> generateManifests(Settings settings, SparkSession spark,
      RunLayout root) {
    Map<String, StageManifest> out = new TreeMap<>();
    for (String runId : runs(spark, root)) {
      Stages.finished(StageContext.of(settings, spark, root.forRun(runId)), Stage.GENERATE)
          .ifPresent(m -> out.put(runId, m));
    }
    return out;
  }

  private static List<String> runs(SparkSession spark, RunLayout root) {
    String dir = root.root() + "/runs";
    return HadoopFiles.exists(spark, dir) ? HadoopFiles.list(spark, dir) : List.of();
  }

  /** The response-cache keys of the matching rows (the request hashes of the answers). */
  private static Dataset<Row> requestKeys(Settings settings, SparkSession spark, RunLayout root, List<Match> found,
      Column matches) {
    Dataset<Row> keys = null;
    for (Match m : found) {
      StageContext run = StageContext.of(settings, spark, root.forRun(m.runId()));
      for (DatasetKind kind : m.rows().keySet()) {
        if (kind.column(Cols.REQUEST_HASH).isPresent()) {
          Dataset<Row> k = run.read(kind).where(matches).select(col(Cols.REQUEST_HASH).as(ResponseCache.KEY));
          keys = keys == null ? k : keys.union(k);
        }
      }
    }
    return keys == null ? null : keys.distinct();
  }

  /** The cache lines to drop: those of the matching rows' requests, and with --before, every older answer. */
  private static Dataset<Row> dropFromCache(Dataset<Row> lines, Dataset<Row> keys, Request request) {
    Dataset<Row> kept = keys == null ? lines : lines.join(keys, lines.col(ResponseCache.KEY)
        .equalTo(keys.col(ResponseCache.KEY)), "left_anti");
    return request.by() == By.BEFORE
        ? kept.where(col(ResponseCache.CREATED_AT).geq(By.instant(request.value()).toEpochMilli())) : kept;
  }

  private static long cacheEntries(SparkSession spark, RunLayout root, Dataset<Row> keys, Request request) {
    if (!HadoopFiles.exists(spark, root.responseCache())) {
      return 0;
    }
    Dataset<Row> lines = ResponseCache.read(spark, root.responseCache());
    return lines.count() - dropFromCache(lines, keys, request).count();
  }

  /** Records the taint on the run's model card and evaluation; whether the run has a model. */
  private static boolean taintModels(SparkSession spark, RunLayout run, Taint taint) {
    boolean any = false;
    if (HadoopFiles.exists(spark, run.modelCard())) {
      try {
        ObjectNode card = (ObjectNode) StageManifest.json().readTree(HadoopFiles.read(spark, run.modelCard()));
        ArrayNode list = card.withArray("tainted");
        boolean seen = false;
        for (JsonNode t : list) {
          seen |= t.path("what").asText().equals(taint.what());
        }
        if (!seen) {
          list.add(StageManifest.json().valueToTree(taint));
          HadoopFiles.write(spark, run.modelCard(), StageManifest.json().writeValueAsBytes(card));
        }
        any = true;
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot taint the model card " + run.modelCard(), e);
      }
    }
    if (HadoopFiles.exists(spark, run.metrics())) {
      EvaluationRecord evaluated = EvaluationRecord.fromJson(HadoopFiles.read(spark, run.metrics()));
      HadoopFiles.write(spark, run.metrics(), evaluated.withTaint(taint).toJson());
    }
    return any;
  }

  private static String modelSha(SparkSession spark, RunLayout run) {
    try {
      return StageManifest.json().readTree(HadoopFiles.read(spark, run.modelCard())).path("model_sha256").asText();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Moves every run whose recorded snapshot of a table still lists files the table has dropped since (a purge's
   * old files, or those a re-run replaced) onto the table's current snapshot, where its own files are the same; a
   * run whose files differ there is left (and logged). Every run's recorded snapshot ends up tagged, so the expiry
   * keeps it.
   */
  private static List<String> rebase(Settings settings, SparkSession spark, RunLayout root, Set<DatasetKind> kinds) {
    Map<DatasetKind, Set<String>> live = new TreeMap<>();
    Tables all = StageContext.of(settings, spark, root).tables();
    kinds.forEach(k -> live.put(k, all.files(k, all.load(k).currentSnapshot().snapshotId())));
    List<String> rebased = new ArrayList<>();
    for (Map.Entry<String, StageManifest> e : generateManifests(settings, spark, root).entrySet()) {
      String runId = e.getKey();
      StageContext run = StageContext.of(settings, spark, root.forRun(runId));
      StageManifest generate = e.getValue();
      Map<String, TableSnapshot> moved = new TreeMap<>();
      Tables tables = run.tables();
      for (DatasetKind kind : kinds) {
        TableSnapshot recorded = generate.table(kind).orElse(null);
        if (recorded == null || tables.load(kind).snapshot(recorded.snapshotId()) == null) {
          continue; // a snapshot already gone: that run's readers say so
        }
        if (live.get(kind).containsAll(tables.files(kind, recorded.snapshotId()))) {
          tables.retag(kind, runId, recorded.snapshotId()); // kept through the expiry below
          continue;
        }
        TableSnapshot current = tables.current(kind, runId);
        if (!current.files().equals(recorded.files())) {
          LOG.warn("Run '{}': its {} files at the current snapshot differ from those its manifest records; left on "
              + "snapshot {}, which keeps purged files until the run is run again", runId, kind.directory(),
              recorded.snapshotId());
          continue;
        }
        tables.retag(kind, runId, current.snapshotId());
        moved.put(kind.directory(), current);
      }
      if (!moved.isEmpty()) {
        run.writeFile(run.layout().manifest(Stage.GENERATE), generate.purged(moved, Map.of()).toJson());
        rebased.add(runId);
      }
    }
    return rebased;
  }

  /** Expires every snapshot of the tables that no run's tag holds; returns the data files deleted. */
  private static long expire(Settings settings, SparkSession spark, RunLayout root, Set<DatasetKind> kinds) {
    long deleted = 0;
    Tables tables = StageContext.of(settings, spark, root).tables();
    for (DatasetKind kind : kinds) {
      Table table = tables.load(kind);
      ExpireSnapshots.Result r = SparkActions.get(spark).expireSnapshots(table)
          .expireOlderThan(System.currentTimeMillis() + 1).retainLast(1).execute();
      deleted += r.deletedDataFilesCount();
    }
    return deleted;
  }

  /** ROOT/audit/purges.jsonl: one JSON object a line, appended by replacing the file whole. */
  private record Audit(SparkSession spark, RunLayout root) {
    void append(Map<String, Object> entry) {
      StringBuilder all = new StringBuilder();
      if (HadoopFiles.exists(spark, root.purgeAudit())) {
        all.append(new String(HadoopFiles.read(spark, root.purgeAudit()), StandardCharsets.UTF_8));
      }
      try {
        all.append(StageManifest.json().writer().without(SerializationFeature.INDENT_OUTPUT)
            .writeValueAsString(entry)).append('\n');
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      HadoopFiles.write(spark, root.purgeAudit(), all.toString().getBytes(StandardCharsets.UTF_8));
    }
  }
}
