package io.distillery.jobs.task.languagemodel;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.length;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.sequence;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.trim;
import static org.apache.spark.sql.functions.when;

import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.dataset.PackedTokens;
import io.distillery.dataset.PackedTopK;
import io.distillery.jobs.stage.StageContext;
import io.distillery.jobs.task.AnswerColumns;
import io.distillery.jobs.task.Byproduct;
import io.distillery.jobs.task.PartitionTeacher;
import io.distillery.jobs.task.Prompt;
import io.distillery.jobs.task.QualityGate;
import io.distillery.jobs.task.RemoteRequests;
import io.distillery.jobs.task.TaskGeneration;
import io.distillery.run.StageDetails;
import io.distillery.settings.Settings;
import io.distillery.teacher.Completion;
import io.distillery.teacher.LanguageModelTeacher;
import io.distillery.teacher.TeacherAnswer;
import io.distillery.teacher.Teachers;
import io.distillery.teacher.http.OpenAiProtocol;
import io.distillery.teacher.lm.Llama2Tokenizer;
import io.distillery.util.Resources;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Generate for task language-model: each prompt asked {@code generate.samples} times, each sample with a seed of its
 * own ({@link #sample}); a completion's tokens and its per-position top-k go to teacher-completions.
 */
final class LmGeneration implements TaskGeneration {
  private static final Logger LOG = LoggerFactory.getLogger(LmGeneration.class);
  static final String EMPTY = "empty";
  static final String UNDECODABLE = "undecodable";
  static final String TOO_SHORT = "too_short";
  static final String TRUNCATED = "truncated";
  static final String DUPLICATE = "duplicate_completion";
  static final String FILTERED = "content_filtered";

  @Override
  public DatasetKind output() {
    return DatasetKind.TEACHER_COMPLETIONS;
  }

  /** One request per prompt and sample: row id PROMPT#SAMPLE, the prompt's own id in prompt_id. */
  @Override
  public Dataset<Row> requests(StageContext ctx, Dataset<Row> prompts) {
    int samples = ctx.settings().generate().samples();
    return prompts.withColumn(Cols.PROMPT_ID, col(Cols.ROW_ID))
        .withColumn(Cols.SAMPLE, explode(sequence(lit(0L), lit((long) samples - 1))))
        .withColumn(Cols.ROW_ID, concat(col(Cols.PROMPT_ID), lit("#"), col(Cols.SAMPLE).cast("string")));
  }

  @Override
  public AnswerColumns columns() {
    return new CompletionColumns();
  }

  /**
   * Executor side: a completion's text, packed tokens and top-k, and how it finished. A remote teacher's answer
   * without ids has empty token_ids and top-k size 0; its token log-probabilities are kept.
   */
  record CompletionColumns() implements AnswerColumns {
    @Override
    public Map<String, Object> of(TeacherAnswer answer) {
      Completion c = ((TeacherAnswer.Completed) answer).completion();
      int k = c.topIds().length == 0 || !c.hasTopK() ? 0 : c.topIds()[0].length;
      Map<String, Object> columns = new HashMap<>();
      columns.put(Cols.COMPLETION, c.text());
      columns.put(Cols.TOKEN_IDS, PackedTokens.packIds(c.tokens()));
      columns.put(Cols.TOKEN_LOGPROBS, PackedTokens.packLogprobs(c.tokenLogprobs()));
      columns.put(Cols.TOP_K, k == 0 ? new byte[0] : PackedTopK.pack(c.topIds(), c.topLogprobs(), k));
      columns.put(Cols.TOP_K_SIZE, (long) k);
      columns.put(Cols.FINISH_REASON, c.finish().wire());
      columns.put(Cols.TEMPERATURE, c.sampling().temperature());
      columns.put(Cols.TOP_P, c.sampling().topP());
      columns.put(Cols.MAX_TOKENS, (long) c.sampling().maxTokens());
      columns.put(Cols.SEED, c.sampling().seed());
      return columns;
    }
  }

  @Override
  public PartitionTeacher.Opener inProcess(Settings settings) {
    return new Complete(settings.teacher(), settings.generate().sampling());
  }

  /** A remote teacher's request: the prompt, sampled with its sample's own seed, as in-process ({@link #sample}). */
  @Override
  public RemoteRequests remoteRequests(Settings settings) {
    return new Sampled(settings.generate().sampling());
  }

  /** Executor side: each request's prompt with the generate.sampling settings and its sample's seed. */
  record Sampled(Settings.Sampling sampling) implements RemoteRequests {
    @Override
    public OpenAiProtocol.Request of(Prompt prompt) {
      return OpenAiProtocol.Request.sampled(prompt.text(), sample(sampling, prompt));
    }
  }

  /**
   * Empty, undecodable, too short, cut by a content filter, truncated (when the run asks for whole answers) and
   * duplicate completions go to quarantine, in that order of precedence. Tokens are counted as the teacher counted
   * them (completion_tokens), so that answers without token ids are judged alike.
   */
  @Override
  public Optional<QualityGate> quality(Settings settings) {
    Settings.Quality q = settings.generate().quality();
    Column tokens = col(Cols.COMPLETION_TOKENS);
    Column reason = when(tokens.equalTo(0).or(trim(col(Cols.COMPLETION)).equalTo("")), lit(EMPTY))
        .when(col(Cols.COMPLETION).contains("\uFFFD"), lit(UNDECODABLE))
        .when(tokens.lt(q.minTokens()), lit(TOO_SHORT))
        .when(col(Cols.FINISH_REASON).equalTo(Completion.Finish.CONTENT_FILTER.wire()), lit(FILTERED));
    if (q.wholeAnswers()) {
      reason = reason.when(col(Cols.FINISH_REASON).equalTo(Completion.Finish.LENGTH.wire()), lit(TRUNCATED));
    }
    if (q.duplicates()) {
      reason = reason.when(row_number().over(Window.partitionBy(col(Cols.COMPLETION)).orderBy(col(Cols.ROW_ID)))
          .gt(1), lit(DUPLICATE));
    }
    return Optional.of(new QualityGate(reason, col(Cols.COMPLETION)));
  }

  @Override
  public Optional<Byproduct> byproduct(Settings settings) {
    return Optional.empty();
  }

  @Override
  public StageDetails describe(StageContext ctx, Dataset<Row> outputs) {
    Settings settings = ctx.settings();
    Row totals = outputs.agg(sum(length(col(Cols.TOKEN_IDS))), sum(length(col(Cols.TOP_K))),
        sum(col(Cols.COMPLETION_TOKENS)), sum(when(col(Cols.TOP_K_SIZE).equalTo(0)
            .and(col(Cols.COMPLETION_TOKENS).gt(0)), 1).otherwise(0))).first();
    long withIds = totals.isNullAt(0) ? 0 : totals.getLong(0) / 2;
    double bytesPerToken = withIds == 0 ? 0 : totals.getLong(1) / (double) withIds;
    Map<String, Long> finish = new TreeMap<>();
    // At most one row per finish reason.
    outputs.groupBy(Cols.FINISH_REASON).count().collectAsList().forEach(r -> finish.put(r.getString(0), r.getLong(1)));
    Optional<Vocabulary> vocabulary = vocabulary(settings.teacher());
    return new LmOutputs(vocabulary.map(Vocabulary::fingerprint).orElse(null),
        vocabulary.map(Vocabulary::size).orElse(null), settings.teacher().topK(),
        totals.isNullAt(2) ? 0 : totals.getLong(2), bytesPerToken, finish, totals.isNullAt(3) ? 0 : totals.getLong(3));
  }

  private record Vocabulary(String fingerprint, int size) {}

  /**
   * The vocabulary the completions' token ids are in: the in-process teacher's, or for a remote one the llama2.c
   * tokenizer teacher.tokenizer names (the served model's); empty when it names none that can be read.
   */
  private static Optional<Vocabulary> vocabulary(Settings.Teacher teacher) {
    if (!teacher.remote()) {
      LanguageModelTeacher lm = Teachers.language(teacher);
      return Optional.of(new Vocabulary(lm.tokenizerFingerprint(), lm.vocabSize()));
    }
    try {
      Llama2Tokenizer tokenizer = Llama2Tokenizer.read(Resources.readAll(teacher.tokenizer()));
      return Optional.of(new Vocabulary(tokenizer.fingerprint(), tokenizer.vocabSize()));
    } catch (RuntimeException e) {
      LOG.warn("{} is not a llama2.c tokenizer that can be read ({}): the generate manifest records no tokenizer "
          + "fingerprint, and a student cannot be trained on these completions", Settings.Teacher.TOKENIZER.is(
              teacher.tokenizer()), e.toString());
      return Optional.empty();
    }
  }

  /** Executor side: the JVM's language model, completing each request with its sample's seed. */
  record Complete(Settings.Teacher spec, Settings.Sampling sampling) implements PartitionTeacher.Opener {
    @Override
    public PartitionTeacher open() {
      LanguageModelTeacher teacher = Teachers.language(spec);
      return PartitionTeacher.answering(teacher.identity(),
          prompt -> parameters(sample(sampling, prompt), spec.topK()),
          prompt -> new TeacherAnswer.Completed(teacher.complete(prompt.text(),
              sample(sampling, prompt), spec.topK())));
    }
  }

  /** A request's sampling: the run's, with its sample's own seed ({@link Settings.Sampling#forSample}). */
  static Settings.Sampling sample(Settings.Sampling sampling, Prompt prompt) {
    return sampling.forSample(prompt.promptId(), prompt.sample());
  }

  /** The request's parameters for its hash: every sampling setting and the sample's seed. */
  static String parameters(Settings.Sampling s, int k) {
    return "temperature=" + s.temperature() + ";top-p=" + s.topP() + (s.topK() > 0 ? ";sampling-top-k=" + s.topK()
        : "") + ";max-tokens=" + s.maxTokens() + ";stop=" + s.stop() + ";seed=" + s.seed() + ";top-k=" + k;
  }
}
