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
import io.distillery.dataset.RunLayout;
import io.distillery.dataset.Stage;
import io.distillery.dataset.StageManifest;
import io.distillery.jobs.Datasets;
import io.distillery.jobs.HadoopFiles;
import io.distillery.jobs.StageJob;
import io.distillery.jobs.StageResult;
import io.distillery.jobs.Stages;
import io.distillery.jobs.task.DistillationTask;
import io.distillery.jobs.task.TeacherAttempts;
import io.distillery.jobs.task.Tasks;
import io.distillery.settings.Settings;
import io.distillery.teacher.TeacherIdentity;
import io.distillery.teacher.http.HttpTeacherClient;
import io.distillery.teacher.http.OpenAiProtocol;
import io.distillery.util.Hashing;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Encoder;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stage 2, generate: fans the prompts out to the teacher across executors (one teacher per executor JVM)
 * and writes its answers, each row with provenance, plus a failure dataset. The teacher is asked exactly
 * once per prompt: attempts are staged to Parquet once and then split. Accounting, checked:
 * prompts = written + failed; the stage fails above generate.max-failure-fraction.
 */
public final class GenerateJob implements StageJob {
  private static final Logger LOG = LoggerFactory.getLogger(GenerateJob.class);

  @Override
  public Stage stage() {
    return Stage.GENERATE;
  }

  @Override
  public StageResult run(Settings settings, SparkSession spark, Map<Stage, StageManifest> upstream) {
    TeacherIdentity.requireDistillationAllowed(settings.teacher(), "generate");
    DistillationTask task = Tasks.of(settings);
    RunLayout layout = Stages.layout(settings);
    String staging = layout.staging(Stage.GENERATE, "attempts");

    Dataset<Row> prompts = Datasets.read(spark, DatasetKind.PROMPTS, layout);
    Optional<StructType> byproduct = task.byproductSchema(settings);
    Encoder<Row> attemptRows = Encoders.row(TeacherAttempts.schema(task.outputDataset(), byproduct));
    if (settings.teacher().remote()) {
      Settings.Teacher spec = settings.teacher();
      ApiKeys apiKey = ApiKeys.of(spec.http(), spark);
      apiKey.get(); // a missing key fails here, not on every executor
      int partitions = settings.spark().partitions();
      Settings.Budget budget = settings.generate().budget();
      RemoteTeacherFunction ask = new RemoteTeacherFunction(spec, apiKey, task.outputDataset(), remoteIdentity(spec),
          1.0 / executorJvms(spark, partitions),
          new Settings.Budget(budget.maxTokens() == 0 ? 0 : Math.max(1, budget.maxTokens() / partitions),
              budget.maxCost() / partitions), layout.responseCache(), layout.runId());
      Datasets.stage(keyed(settings, spark, layout, prompts).repartition(partitions)
          .mapPartitions(ask, attemptRows), staging);
    } else {
      Datasets.stage(prompts.repartition(settings.spark().partitions())
          .mapPartitions(task.teacherFunction(settings), attemptRows), staging);
    }
    Dataset<Row> staged = spark.read().parquet(staging);
    Dataset<Row> attempts = byproduct.isPresent() ? staged.where(col(TeacherAttempts.BYPRODUCT).isNull()) : staged;
    Datasets.write(attempts.where(col(TeacherAttempts.ANSWERED)), task.outputDataset(), layout);
    Datasets.write(attempts.where(col(TeacherAttempts.ANSWERED).equalTo(false)), DatasetKind.TEACHER_FAILURES,
        layout);
    Map<String, Long> byproductCounts = byproduct.isPresent()
        ? task.writeByproduct(settings, spark, layout,
            staged.where(col(TeacherAttempts.BYPRODUCT).isNotNull()).select(TeacherAttempts.BYPRODUCT + ".*"))
        : Map.of();
    HadoopFiles.delete(spark, staging);

    Dataset<Row> outputs = Datasets.read(spark, task.outputDataset(), layout);
    long rowsIn = prompts.count();
    long written = outputs.count();
    Dataset<Row> failures = Datasets.read(spark, DatasetKind.TEACHER_FAILURES, layout);
    long failed = failures.count();
    long notSent = failures.where(col(Cols.ERROR_CLASS).equalTo(RemoteTeacherFunction.BUDGET_EXHAUSTED)).count();
    Map<String, Long> counts = new TreeMap<>(Map.of("rows_in", rowsIn, "written", written, "failed", failed));
    LOG.info("generate: rows in {} = written {} + failed {} (of which {} not sent: budget spent)", rowsIn, written,
        failed, notSent);
    if (rowsIn != written + failed) {
      throw new IllegalStateException("Generate accounting does not add up: " + counts);
    }
    if (settings.teacher().remote()) {
      counts.putAll(remoteCounts(outputs, settings.teacher()));
      counts.put(RemoteTeacherFunction.BUDGET_EXHAUSTED, notSent);
      if (notSent > 0) {
        LOG.warn("generate: the run's budget ({}) is spent: {} of {} prompts were not sent and are in {} as {}; "
            + "a later run of the same corpus with a higher budget sends only those.", settings.generate().budget(),
            notSent, rowsIn, layout.partition(DatasetKind.TEACHER_FAILURES), RemoteTeacherFunction.BUDGET_EXHAUSTED);
      }
    }
    long teacherFailed = failed - notSent;
    double failedFraction = rowsIn == 0 ? 0 : teacherFailed / (double) rowsIn;
    if (failedFraction > settings.generate().maxFailureFraction()) {
      Map<String, Long> byClass = new TreeMap<>();
      // Bounded: one row per error class.
      failures.groupBy(Cols.ERROR_CLASS).count().collectAsList().forEach(r -> byClass.put(r.getString(0), r.getLong(1)));
      throw new IllegalStateException(String.format("The teacher failed on %d of %d prompts (%.2f%%), above "
          + "distillery.generate.max-failure-fraction = %s (by error: %s). The failures, with their errors, are in "
          + "%s.", teacherFailed, rowsIn, 100 * failedFraction, settings.generate().maxFailureFraction(), byClass,
          layout.partition(DatasetKind.TEACHER_FAILURES)));
    }
    counts.putAll(byproductCounts);
    counts.putAll(task.generateAuxiliary(settings, spark, layout));
    Map<String, Object> details = new TreeMap<>(task.describeOutputs(settings, outputs));
    details.put("task", task.name());
    details.put("dataset", layout.partition(task.outputDataset()));
    return StageResult.of(counts, details).withTeacher(teacherOf(outputs, settings.teacher()));
  }

  /**
   * Prompt rows with their request key ({@link ResponseCache#KEY}) and, when the cache has answered that request
   * before, the cached response and how it was answered (else nulls).
   */
  public static Dataset<Row> keyed(Settings settings, SparkSession spark, RunLayout layout, Dataset<Row> prompts) {
    Settings.Teacher spec = settings.teacher();
    StructType withKey = prompts.schema().add(ResponseCache.KEY, DataTypes.StringType, false);
    Dataset<Row> keys = prompts.mapPartitions(new RequestKeys(spec), Encoders.row(withKey));
    Dataset<Row> cache = spec.http().cache() ? ResponseCache.read(spark, layout.responseCache())
        : spark.createDataFrame(List.of(), ResponseCache.SCHEMA);
    return keys.join(cache.select(ResponseCache.KEY, ResponseCache.RESPONSE, ResponseCache.LATENCY_MS,
        ResponseCache.ATTEMPTS, ResponseCache.CREATED_AT), keys.col(ResponseCache.KEY).equalTo(
            cache.col(ResponseCache.KEY)), "left_outer").drop(cache.col(ResponseCache.KEY));
  }

  /**
   * Executor side: each prompt row plus the content hash of the request that asks about it: the endpoint and the
   * canonical body with an empty input (model and parameters; built once per partition), then the input. The
   * body itself is built once, when the request is sent.
   */
  record RequestKeys(Settings.Teacher spec) implements MapPartitionsFunction<Row, Row> {
    @Override
    public java.util.Iterator<Row> call(java.util.Iterator<Row> prompts) {
      String request = spec.http().baseUrl() + OpenAiProtocol.path(spec) + '\u0000'
          + OpenAiProtocol.requestBody(spec, "") + '\u0000';
      return io.distillery.jobs.task.Iterators.map(prompts, p -> {
        Object[] values = new Object[p.size() + 1];
        for (int i = 0; i < p.size(); i++) {
          values[i] = p.get(i);
        }
        values[p.size()] = Hashing.sha256Hex(request + p.<String>getAs(Cols.TEXT));
        return RowFactory.create(values);
      });
    }
  }

  /**
   * What a remote teacher's rows record as its identity: its configured name and version, the endpoint and model
   * as the artifact, no model file hash (its weights are not visible: the rows' served_model and
   * system_fingerprint say what answered).
   */
  static TeacherIdentity remoteIdentity(Settings.Teacher spec) {
    return TeacherIdentity.of(new Settings.Teacher(spec.kind(), spec.name(), spec.version(),
        spec.http().baseUrl() + OpenAiProtocol.path(spec) + " model=" + spec.model(), spec.tokenizer(),
        spec.maxTokens(), spec.intraOpThreads(), spec.topK(), spec.terms(), spec.http()), "");
  }

  /**
   * Executor JVMs that may run generate tasks at once, so that each takes an equal share of the job's rate
   * limits: the registered or configured executors (dynamic allocation: its maximum), at most one per partition.
   */
  static int executorJvms(SparkSession spark, int partitions) {
    org.apache.spark.SparkContext sc = spark.sparkContext();
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
   * A remote teacher's dry run: how many prompts the cache does not answer, and the tokens and cost of asking
   * them (estimated: characters / teacher.http.chars-per-token, plus max-completion-tokens for chat). Sends
   * nothing and writes nothing.
   */
  public static Map<String, Object> estimate(Settings settings, SparkSession spark) {
    Settings.Teacher spec = settings.teacher();
    if (!spec.remote()) {
      throw new IllegalArgumentException("--dry-run estimates a remote teacher's requests; teacher.kind = "
          + spec.kind() + " runs in-process and costs nothing per request.");
    }
    RunLayout layout = Stages.layout(settings);
    Dataset<Row> keyed = keyed(settings, spark, layout, Datasets.read(spark, DatasetKind.PROMPTS, layout));
    long completion = OpenAiProtocol.completes(spec) ? spec.http().maxCompletionTokens() : 0;
    Row r = keyed.agg(count(lit(1)), sum(when(col(ResponseCache.RESPONSE).isNull(), 1).otherwise(0)),
        sum(when(col(ResponseCache.RESPONSE).isNull(),
            ceil(length(col(Cols.TEXT)).divide(spec.http().charsPerToken()))).otherwise(0))).first();
    long prompts = r.getLong(0);
    long toSend = r.isNullAt(1) ? 0 : r.getLong(1);
    long input = r.isNullAt(2) ? 0 : r.getLong(2);
    long output = toSend * completion;
    Map<String, Object> e = new java.util.LinkedHashMap<>();
    e.put("run_id", settings.run().id());
    e.put("endpoint", spec.http().baseUrl() + OpenAiProtocol.path(spec));
    e.put("model", spec.model());
    e.put("prompts", prompts);
    e.put("answered_by_cache", prompts - toSend);
    e.put("requests_to_send", toSend);
    e.put("estimated_input_tokens", input);
    e.put("estimated_output_tokens", output);
    e.put("estimated_cost", spec.http().price().cost(input, output));
    e.put("currency", spec.http().price().currency());
    e.put("budget_max_tokens", settings.generate().budget().maxTokens());
    e.put("budget_max_cost", settings.generate().budget().maxCost());
    return e;
  }

  /** The one teacher identity the rows record; a run answered by two different models is an error. */
  private static TeacherIdentity teacherOf(Dataset<Row> outputs, Settings.Teacher spec) {
    List<Row> ids = outputs.select(Cols.TEACHER_NAME, Cols.TEACHER_VERSION, Cols.TEACHER_ARTIFACT,
        Cols.TEACHER_SHA256, Cols.TERMS).distinct().limit(2).collectAsList();
    if (ids.size() != 1) {
      throw new IllegalStateException(ids.isEmpty() ? "The teacher answered no prompt."
          : "Rows of one run were answered by different teachers: " + ids);
    }
    Row r = ids.get(0);
    return new TeacherIdentity(r.getString(0), r.getString(1), r.getString(2), r.getString(3), r.getString(4),
        spec.terms().url(), spec.terms().distillationAllowed());
  }
}
