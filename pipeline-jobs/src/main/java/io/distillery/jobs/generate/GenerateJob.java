package io.distillery.jobs.generate;

import static org.apache.spark.sql.functions.ceil;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.length;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.jobs.lineage.Lineage;
import io.distillery.jobs.spark.HadoopFiles;
import io.distillery.jobs.spark.Iterators;
import io.distillery.jobs.spark.Progress;
import io.distillery.jobs.spark.Staging;
import io.distillery.jobs.stage.StageContext;
import io.distillery.jobs.stage.StageJob;
import io.distillery.jobs.stage.StageResult;
import io.distillery.jobs.stage.TermsCheck;
import io.distillery.jobs.task.Byproduct;
import io.distillery.jobs.task.Prompt;
import io.distillery.jobs.task.QualityGate;
import io.distillery.jobs.task.RemoteRequests;
import io.distillery.jobs.task.TaskGeneration;
import io.distillery.provenance.TeacherIdentity;
import io.distillery.run.GenerateDetails;
import io.distillery.run.Stage;
import io.distillery.run.StageManifest;
import io.distillery.settings.Settings;
import io.distillery.settings.SignOff;
import io.distillery.teacher.http.OpenAiProtocol;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stage 2, generate: fans the prompts out to the teacher across executors (one teacher per executor JVM) and writes
 * its answers, each row with provenance, plus a failure dataset. The teacher is asked exactly once per prompt:
 * attempts are staged to Parquet once and then split. Answers the task's quality gate rejects go to
 * teacher-quarantine with their reason. Accounting, checked: prompts = written + failed + quarantined; the stage fails above
 * generate.max-failure-fraction.
 */
public final class GenerateJob implements StageJob {
  private static final Logger LOG = LoggerFactory.getLogger(GenerateJob.class);

  private static final String QUARANTINE_REASON = "_quarantine_reason";
  /** Staging of the remote teacher's input ({@link #checkpointed}). */
  private static final String REQUESTS = "requests";
  private static final Column[] IDENTITY = {col(Cols.TEACHER_NAME), col(Cols.TEACHER_VERSION),
      col(Cols.TEACHER_ARTIFACT), col(Cols.TEACHER_SHA256), col(Cols.TERMS)};

  private final TaskGeneration task;

  public GenerateJob(TaskGeneration task) {
    this.task = task;
  }

  @Override
  public Stage stage() {
    return Stage.GENERATE;
  }

  @Override
  public StageResult run(StageContext ctx, Map<Stage, StageManifest> upstream) {
    Settings settings = ctx.settings();
    Optional<SignOff> signOff = TermsCheck.configured(settings, "generate");
    String staging = ctx.layout().staging(Stage.GENERATE, "attempts");
    Dataset<Row> prompts = task.requests(ctx, ctx.read(DatasetKind.PROMPTS));
    Optional<Byproduct> byproduct = task.byproduct(settings);
    SparkContext sc = ctx.spark().sparkContext();
    long rowsIn = prompts.count(); // the progress lines' total and the accounting's rows in
    AttemptRows rows = new AttemptRows(task.output(), byproduct.map(Byproduct::schema))
        .counting(Progress.counter(sc, "prompts answered", rowsIn));
    Progress.describe(sc, "generate: teacher fan-out");
    Staging.write(answer(ctx, prompts, rows), staging);

    Dataset<Row> staged = ctx.spark().read().parquet(staging);
    Dataset<Row> attempts = byproduct.isPresent() ? staged.where(col(AttemptRows.BYPRODUCT).isNull()) : staged;
    Optional<QualityGate> quality = task.quality(settings);
    Dataset<Row> answered = attempts.where(col(AttemptRows.ANSWERED));
    // The model file's hash is known from the rows only; lineage gets the configured identity (the rows have both).
    TeacherIdentity configured = settings.teacher().remote() ? TeacherIdentity.remote(settings.teacher())
        : TeacherIdentity.of(settings.teacher(), "");
    Map<String, Long> byproductCounts = Lineage.describing(ctx.spark().sparkContext(), ctx.layout().runId(),
        configured, () -> {
          write(ctx, answered, attempts, quality);
          return byproduct.isPresent()
              ? byproduct.get().write(ctx, staged.where(col(AttemptRows.BYPRODUCT).isNotNull())
                  .select(AttemptRows.BYPRODUCT + ".*"))
              : Map.<String, Long>of();
        });
    HadoopFiles.delete(ctx.spark(), staging);
    HadoopFiles.delete(ctx.spark(), ctx.layout().staging(Stage.GENERATE, REQUESTS));

    Dataset<Row> outputs = ctx.read(task.output());
    Dataset<Row> failures = ctx.read(DatasetKind.TEACHER_FAILURES);
    Dataset<Row> quarantined = quality.isPresent() ? ctx.read(DatasetKind.TEACHER_QUARANTINE) : null;
    GenerateAccounting accounting = new GenerateAccounting(rowsIn, outputs.count(), failures.count(),
        failures.where(col(Cols.ERROR_CLASS).equalTo(TeacherFailure.BUDGET_EXHAUSTED)).count(),
        quarantined == null ? 0 : quarantined.count());
    LOG.info("generate: rows in {} = written {} + failed {} (of which {} not sent: budget spent) + quarantined {}",
        accounting.rowsIn(), accounting.written(), accounting.failed(), accounting.notSent(),
        accounting.quarantined());
    accounting.checkNothingLost();
    Map<String, Long> counts = accounting.counts();
    if (quarantined != null) {
      // Bounded: one row per reason.
      quarantined.groupBy(Cols.REASON).count().collectAsList()
          .forEach(r -> counts.put("quarantined_" + r.getString(0), r.getLong(1)));
    }
    if (settings.teacher().remote()) {
      counts.putAll(remoteCounts(outputs, settings.teacher()));
      counts.put(TeacherFailure.BUDGET_EXHAUSTED, accounting.notSent());
      if (accounting.notSent() > 0) {
        LOG.warn("generate: the run's budget ({}) is spent: {} of {} prompts were not sent and are in {} as {}; "
            + "a later run of the same corpus with a higher budget sends only those.", settings.generate().budget(),
            accounting.notSent(), accounting.rowsIn(), ctx.describe(DatasetKind.TEACHER_FAILURES),
            TeacherFailure.BUDGET_EXHAUSTED);
      }
    }
    double maxFailures = settings.generate().maxFailureFraction();
    if (accounting.tooManyFailures(maxFailures)) {
      Map<String, Long> byClass = new TreeMap<>();
      // Bounded: one row per error class.
      failures.groupBy(Cols.ERROR_CLASS).count().collectAsList().forEach(r -> byClass.put(r.getString(0), r.getLong(1)));
      throw new IllegalStateException(accounting.tooManyFailuresMessage(maxFailures, byClass,
          ctx.describe(DatasetKind.TEACHER_FAILURES)));
    }
    counts.putAll(byproductCounts);
    counts.putAll(task.auxiliary(ctx));
    GenerateDetails details = new GenerateDetails(settings.task().configName(),
        ctx.tables().name(task.output()), task.describe(ctx, outputs));
    Dataset<Row> answeredAll = quarantined == null ? outputs : outputs.select(IDENTITY)
        .unionByName(quarantined.select(IDENTITY));
    return StageResult.of(counts, details).withTeacher(teacherOf(answeredAll, settings.teacher()))
        .withSignOff(signOff);
  }

  /** The answers, what the quality gate kept out and the failures, each into its dataset. */
  private void write(StageContext ctx, Dataset<Row> answered, Dataset<Row> attempts, Optional<QualityGate> quality) {
    if (quality.isPresent()) {
      // Judged once for both writes: a rule may shuffle (duplicates are a window over the answers).
      Dataset<Row> judged = answered.withColumn(QUARANTINE_REASON, quality.get().reason())
          .persist(StorageLevel.MEMORY_AND_DISK());
      try {
        ctx.write(judged.where(col(QUARANTINE_REASON).isNull()), task.output());
        ctx.write(judged.where(col(QUARANTINE_REASON).isNotNull()).withColumn(Cols.ANSWER, quality.get().answer())
            .withColumn(Cols.REASON, col(QUARANTINE_REASON)), DatasetKind.TEACHER_QUARANTINE);
      } finally {
        judged.unpersist();
      }
    } else {
      ctx.write(answered, task.output());
    }
    ctx.write(attempts.where(col(AttemptRows.ANSWERED).equalTo(false)), DatasetKind.TEACHER_FAILURES);
  }

  /** The attempt rows: each prompt asked once, by the in-process teacher or over HTTP. */
  private Dataset<Row> answer(StageContext ctx, Dataset<Row> prompts, AttemptRows rows) {
    Settings settings = ctx.settings();
    int partitions = settings.spark().partitions();
    if (!settings.teacher().remote()) {
      return inProcess(settings, prompts.repartition(partitions), rows);
    }
    Settings.Teacher spec = settings.teacher();
    ApiKeys apiKey = ApiKeys.of(spec.http(), ctx.spark());
    apiKey.get(); // a missing key fails here, not on every executor
    RemoteRequests requests = task.remoteRequests(settings);
    RemoteTeacherFunction ask = new RemoteTeacherFunction(spec, requests, apiKey, rows, task.columns(),
        TeacherIdentity.remote(spec), 1.0 / executorJvms(ctx.spark().sparkContext(), partitions),
        settings.generate().budget().share(partitions), ctx.layout().responseCache(), ctx.layout().runId());
    return checkpointed(ctx, keyed(ctx, prompts, requests).repartition(partitions))
        .mapPartitions(ask, Encoders.row(rows.schema()));
  }

  /**
   * The remote teacher's input, written to the run's staging and read back as it is partitioned. Read from the
   * shuffle that keyed and spread it instead, an executor lost mid-stage takes shuffle output with it: Spark then
   * resubmits the whole stage and runs again partitions still running on other executors, each of which asks its
   * prompts a second time. Read from files, only the lost task runs again, as a later attempt that takes what its
   * killed attempt had recorded from the response cache.
   */
  private static Dataset<Row> checkpointed(StageContext ctx, Dataset<Row> requests) {
    ctx.spark().sparkContext().setCheckpointDir(ctx.layout().staging(Stage.GENERATE, REQUESTS));
    return requests.checkpoint(true);
  }

  /**
   * The attempt rows of an in-process teacher for prompts as they are partitioned: the stage's own executor path,
   * which bench/run.sh times against a bare loop over the same teacher.
   */
  public Dataset<Row> inProcessAttempts(Settings settings, Dataset<Row> partitionedPrompts) {
    return inProcess(settings, partitionedPrompts,
        new AttemptRows(task.output(), task.byproduct(settings).map(Byproduct::schema)));
  }

  private Dataset<Row> inProcess(Settings settings, Dataset<Row> prompts, AttemptRows rows) {
    return prompts.mapPartitions(new InProcessAnswers(task.inProcess(settings), task.columns(), rows),
        Encoders.row(rows.schema()));
  }

  /**
   * Request rows with their request key ({@link ResponseCache#KEY}) and, when the cache has answered that request
   * before, the cached response and how it was answered (else nulls).
   */
  public static Dataset<Row> keyed(StageContext ctx, Dataset<Row> requests, RemoteRequests remote) {
    Settings.Teacher spec = ctx.settings().teacher();
    StructType withKey = requests.schema().add(ResponseCache.KEY, DataTypes.StringType, false);
    Dataset<Row> keys = requests.mapPartitions(new WithRequestKey(spec, remote, withKey), Encoders.row(withKey));
    Dataset<Row> cache = spec.http().cache() ? ResponseCache.read(ctx.spark(), ctx.layout().responseCache())
        : ctx.spark().createDataFrame(List.of(), ResponseCache.SCHEMA);
    return keys.join(cache.select(ResponseCache.KEY, ResponseCache.RESPONSE, ResponseCache.LATENCY_MS,
        ResponseCache.ATTEMPTS, ResponseCache.CREATED_AT), keys.col(ResponseCache.KEY).equalTo(
            cache.col(ResponseCache.KEY)), "left_outer").drop(cache.col(ResponseCache.KEY));
  }

  /** Executor side: each request row plus the key of the request sent for it (its last column). */
  record WithRequestKey(Settings.Teacher spec, RemoteRequests remote, StructType withKey)
      implements MapPartitionsFunction<Row, Row> {
    @Override
    public Iterator<Row> call(Iterator<Row> requests) {
      return Iterators.map(requests, p -> {
        Object[] values = new Object[p.size() + 1];
        for (int i = 0; i < p.size(); i++) {
          values[i] = p.get(i);
        }
        values[p.size()] = OpenAiProtocol.requestKey(spec, remote.of(Prompt.of(p)));
        return new GenericRowWithSchema(values, withKey);
      });
    }
  }

  /**
   * Executor JVMs that may run generate tasks at once, so that each takes an equal share of the job's rate limits:
   * the registered or configured executors (dynamic allocation: its maximum), at most one per partition.
   */
  static int executorJvms(SparkContext sc, int partitions) {
    if (sc.isLocal()) {
      return 1;
    }
    int registered = sc.getExecutorMemoryStatus().size() - 1; // without the driver
    int configured = sc.conf().getInt("spark.executor.instances", 0);
    if (sc.conf().getBoolean("spark.dynamicAllocation.enabled", false)) {
      configured = Math.max(configured, sc.conf().getInt("spark.dynamicAllocation.maxExecutors", Integer.MAX_VALUE));
    }
    return Math.max(1, Math.min(partitions, Math.max(registered, configured)));
  }

  /** Requests sent and answered from the cache, tokens the server counted, and their cost. */
  private static Map<String, Long> remoteCounts(Dataset<Row> outputs, Settings.Teacher spec) {
    // The request phase: from the first request sent (an answer's time less its latency) to the last answer.
    Column answeredAt = col(Cols.CREATED_AT).cast("double");
    Row r = outputs.agg(
        sum(when(col(Cols.FROM_CACHE), 1).otherwise(0)),
        sum(when(col(Cols.FROM_CACHE), 0).otherwise(1)),
        sum(when(col(Cols.FROM_CACHE), 0).otherwise(col(Cols.PROMPT_TOKENS))),
        sum(when(col(Cols.FROM_CACHE), 0).otherwise(col(Cols.COMPLETION_TOKENS))),
        max(when(col(Cols.FROM_CACHE), null).otherwise(answeredAt)),
        min(when(col(Cols.FROM_CACHE), null).otherwise(answeredAt.minus(col(Cols.LATENCY_MS).divide(1000)))))
        .first();
    long input = r.isNullAt(2) ? 0 : r.getLong(2);
    long output = r.isNullAt(3) ? 0 : r.getLong(3);
    Map<String, Long> counts = new TreeMap<>();
    counts.put("answered_from_cache", r.isNullAt(0) ? 0 : r.getLong(0));
    counts.put("answered_by_requests", r.isNullAt(1) ? 0 : r.getLong(1));
    counts.put("prompt_tokens", input);
    counts.put("completion_tokens", output);
    counts.put("cost_micros", Math.round(spec.http().price().cost(input, output) * 1e6));
    counts.put("request_phase_ms", r.isNullAt(4) ? 0 : Math.round((r.getDouble(4) - r.getDouble(5)) * 1000));
    LOG.info("generate: {} answers from the cache, {} from requests; {} input + {} output tokens, cost {} {}",
        counts.get("answered_from_cache"), counts.get("answered_by_requests"), input, output,
        spec.http().price().cost(input, output), spec.http().price().currency());
    return counts;
  }

  /**
   * A remote teacher's dry run: how many requests (prompts × generate.samples for task language-model) the cache
   * does not answer, and the tokens and cost of asking them (estimated: characters / teacher.http.chars-per-token,
   * plus the most an answer may take: generate.sampling.max-tokens when generating, max-completion-tokens for
   * labels). Sends nothing and writes nothing.
   */
  public Map<String, Object> estimate(StageContext ctx) {
    Settings settings = ctx.settings();
    Settings.Teacher spec = settings.teacher();
    if (!spec.remote()) {
      throw new IllegalArgumentException("--dry-run estimates a remote teacher's requests; "
          + Settings.Teacher.KIND.is(spec.kind()) + " runs in-process and costs nothing per request.");
    }
    Dataset<Row> keyed = keyed(ctx, task.requests(ctx, ctx.read(DatasetKind.PROMPTS)), task.remoteRequests(settings));
    long completion = spec.generates() ? settings.generate().sampling().maxTokens()
        : spec.kind().completes() ? spec.http().maxCompletionTokens() : 0;
    Row r = keyed.agg(count(lit(1)), sum(when(col(ResponseCache.RESPONSE).isNull(), 1).otherwise(0)),
        sum(when(col(ResponseCache.RESPONSE).isNull(),
            ceil(length(col(Cols.TEXT)).divide(spec.http().charsPerToken()))).otherwise(0))).first();
    long requests = r.getLong(0);
    long toSend = r.isNullAt(1) ? 0 : r.getLong(1);
    long input = r.isNullAt(2) ? 0 : r.getLong(2);
    long output = toSend * completion;
    Map<String, Object> e = new LinkedHashMap<>();
    e.put("run_id", settings.run().id());
    e.put("endpoint", spec.http().baseUrl() + spec.kind().path().orElseThrow());
    e.put("model", spec.model());
    e.put("prompts", ctx.read(DatasetKind.PROMPTS).count());
    e.put("requests", requests);
    e.put("answered_by_cache", requests - toSend);
    e.put("requests_to_send", toSend);
    e.put("estimated_input_tokens", input);
    e.put("estimated_output_tokens", output);
    e.put("estimated_cost", spec.http().price().cost(input, output));
    e.put("currency", spec.http().price().currency());
    e.put("budget_max_tokens", settings.generate().budget().maxTokens());
    e.put("budget_max_cost", settings.generate().budget().maxCost());
    return e;
  }

  /** The teacher that answered: one identity across every answered row, written or quarantined. */
  private static TeacherIdentity teacherOf(Dataset<Row> answered, Settings.Teacher spec) {
    List<Row> ids = answered.select(IDENTITY).distinct().limit(2).collectAsList();
    if (ids.size() != 1) {
      throw new IllegalStateException(ids.isEmpty() ? "The teacher answered no prompt."
          : "Rows of one run were answered by different teachers: " + ids);
    }
    Row r = ids.get(0);
    if (!r.getString(4).equals(spec.terms().id())) {
      throw new IllegalStateException("The rows carry terms '" + r.getString(4) + "', the config names '"
          + spec.terms().id() + "'.");
    }
    return TeacherIdentity.of(r.getString(0), r.getString(1), r.getString(2), r.getString(3), spec.terms());
  }
}
