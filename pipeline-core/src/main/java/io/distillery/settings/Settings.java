package io.distillery.settings;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import io.distillery.util.Hashing;
import io.distillery.util.Retry;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The whole, validated, immutable configuration of a Distillery run. Built once at start-up by {@link #load} and
 * passed around; nothing else reads Typesafe Config. Each section is a record that declares its keys ({@link Key}:
 * name, type, bounds) and reads itself; the checks that span sections are in {@link #checkCombinations}.
 */
public record Settings(
    Run run,
    TaskKind task,
    Spark spark,
    Corpus corpus,
    Teacher teacher,
    Generate generate,
    Student student,
    Train train,
    Serve serve,
    Evaluate evaluate,
    Tables tables,
    Purpose purpose,
    ProgressLines progress,
    Map<String, String> sectionHashes) implements Serializable {

  public static final String ROOT = "distillery";
  public static final Key<TaskKind> TASK = Key.oneOf("task", TaskKind.class);

  public record Run(String id, String root) implements Serializable {
    public static final Key<String> ID = Key.matching("run.id", Pattern.compile("[A-Za-z0-9._-]{1,128}"),
        "letters, digits, '.', '_' or '-' (1 to 128)");
    public static final Key<String> ROOT_DIR = Key.nonEmpty("run.root");

    static Run read(ConfigReader r) {
      return new Run(r.get(ID), r.get(ROOT_DIR));
    }
  }

  /** Progress lines of long stages (see {@link ProgressMode}); {@code interval} between lines in a log. */
  public record ProgressLines(ProgressMode mode, Duration interval) implements Serializable {
    public static final Key<ProgressMode> MODE = Key.oneOf("progress.mode", ProgressMode.class);
    public static final Key<Duration> INTERVAL = Key.duration("progress.interval");

    static ProgressLines read(ConfigReader r) {
      return new ProgressLines(r.get(MODE), r.get(INTERVAL));
    }
  }

  public record Spark(String master, String appName, int partitions) implements Serializable {
    public static final Key<String> MASTER = Key.string("spark.master");
    public static final Key<String> APP_NAME = Key.nonEmpty("spark.app-name");
    public static final Key<Integer> PARTITIONS = Key.intAtLeast("spark.partitions", 1);

    static Spark read(ConfigReader r) {
      return new Spark(r.get(MASTER), r.get(APP_NAME), r.get(PARTITIONS));
    }
  }

  public record Corpus(
      CorpusSource source,
      CorpusUnit unit,
      String path,
      String column,
      String labelColumn,
      List<String> languages,
      int detectChars,
      int minWords,
      int maxWords,
      int maxChars,
      int spansPerSentence,
      int maxDocuments,
      double validationFraction,
      double testFraction,
      PromptTemplate template,
      TrainingOnly trainingOnly) implements Serializable {
    public static final Key<CorpusSource> SOURCE = Key.oneOf("corpus.source", CorpusSource.class);
    public static final Key<CorpusUnit> UNIT = Key.oneOf("corpus.unit", CorpusUnit.class);
    public static final Key<String> PATH = Key.string("corpus.path");
    public static final Key<String> COLUMN = Key.nonEmpty("corpus.column");
    public static final Key<String> LABEL_COLUMN = Key.string("corpus.label-column");
    public static final Key<List<String>> LANGUAGES = Key.strings("corpus.languages");
    public static final Key<Integer> DETECT_CHARS = Key.intAtLeast("corpus.detect-chars", 32);
    public static final Key<Integer> MIN_WORDS = Key.intAtLeast("corpus.min-words", 1);
    public static final Key<Integer> MAX_WORDS = Key.intAtLeast("corpus.max-words", 1);
    public static final Key<Integer> MAX_CHARS = Key.intAtLeast("corpus.max-chars", 1);
    public static final Key<Integer> SPANS_PER_SENTENCE = Key.intAtLeast("corpus.spans-per-sentence", 0);
    public static final Key<Integer> MAX_DOCUMENTS = Key.intAtLeast("corpus.max-documents", 0);
    public static final Key<Double> VALIDATION_FRACTION = Key.doubleBetween("corpus.validation-fraction", 0, 0.5);
    public static final Key<Double> TEST_FRACTION = Key.doubleBetween("corpus.test-fraction", 0, 0.5);
    public static final Key<String> TEMPLATE_ID = Key.string("corpus.template.id");
    public static final Key<String> TEMPLATE_TEXT = Key.string("corpus.template.text");

    static Corpus read(ConfigReader r) {
      Corpus c = new Corpus(r.get(SOURCE), r.get(UNIT), r.get(PATH), r.get(COLUMN), r.get(LABEL_COLUMN),
          r.get(LANGUAGES), r.get(DETECT_CHARS), r.get(MIN_WORDS), r.get(MAX_WORDS), r.get(MAX_CHARS),
          r.get(SPANS_PER_SENTENCE), r.get(MAX_DOCUMENTS), r.get(VALIDATION_FRACTION), r.get(TEST_FRACTION),
          readTemplate(r), TrainingOnly.read(r));
      if (c.source() != CorpusSource.EUROPARL && c.path().isBlank()) {
        r.problem(PATH, "is required when " + SOURCE.is(c.source()));
      }
      if (c.maxWords() < c.minWords()) {
        r.problem(MAX_WORDS, "must be >= " + MIN_WORDS.path() + " (" + c.minWords() + "), was " + c.maxWords());
      }
      if (c.template().present() && c.source() == CorpusSource.EUROPARL) {
        r.problem(TEMPLATE_TEXT, "fills its slots from a seed table: needs " + SOURCE.path() + " = text, jsonl or "
            + "parquet, was " + c.source());
      }
      if (!c.labelColumn().isEmpty() && c.source() != CorpusSource.JSONL && c.source() != CorpusSource.PARQUET) {
        r.problem(LABEL_COLUMN, "needs " + SOURCE.path() + " = jsonl or parquet (a column to read), was "
            + c.source());
      }
      return c;
    }

    /**
     * Text the student trains on beside the corpus and never held out (corpus.training-only): read like the corpus
     * (text, jsonl or parquet; no template, no gold label), split and triaged the same, every prompt in the
     * training split, no spans. The held-out splits stay the corpus's own.
     */
    public record TrainingOnly(CorpusSource source, String path, String column) implements Serializable {
      public static final Key<CorpusSource> SOURCE = Key.oneOf("corpus.training-only.source", CorpusSource.class);
      public static final Key<String> PATH = Key.string("corpus.training-only.path");
      public static final Key<String> COLUMN = Key.nonEmpty("corpus.training-only.column");

      static TrainingOnly read(ConfigReader r) {
        TrainingOnly t = new TrainingOnly(r.get(SOURCE), r.get(PATH), r.get(COLUMN));
        if (t.present() && t.source() == CorpusSource.EUROPARL) {
          r.problem(SOURCE, "must be text, jsonl or parquet (the text at " + PATH.path() + "), was " + t.source());
        }
        return t;
      }

      /** Whether there is any (a path is set). */
      public boolean present() {
        return !path.isBlank();
      }
    }
  }

  private static PromptTemplate readTemplate(ConfigReader r) {
    String text = r.get(Corpus.TEMPLATE_TEXT);
    String id = r.get(Corpus.TEMPLATE_ID);
    if (text.isEmpty()) {
      if (!id.isEmpty()) {
        r.problem(Corpus.TEMPLATE_TEXT, "is empty, but " + Corpus.TEMPLATE_ID.is(id) + ": give the template's text");
      }
      return PromptTemplate.NONE;
    }
    if (!id.matches("[A-Za-z0-9._-]+")) {
      r.problem(Corpus.TEMPLATE_ID, "must name the template (letters, digits, '.', '_', '-'), was '" + id + "'");
    }
    try {
      return new PromptTemplate(id, text);
    } catch (IllegalArgumentException e) {
      r.problem(Corpus.TEMPLATE_TEXT, e.getMessage());
      return PromptTemplate.NONE;
    }
  }

  /**
   * What a model runs on (train.device, teacher.device), and whether a run set to GPUs that finds none may use the
   * CPU instead.
   */
  public record Device(DeviceKind kind, boolean cpuFallback) implements Serializable {
    static Device read(ConfigReader r, Key<DeviceKind> kind, Key<Boolean> cpuFallback) {
      return new Device(r.get(kind), r.get(cpuFallback));
    }
  }

  /**
   * The terms a teacher's outputs come under, and the uses of them they allow.
   *
   * @param version the terms' version or date ("" if they have none)
   * @param distillationAllowed whether they allow training other models on the outputs at all
   * @param students the kinds of model they allow the outputs to train
   * @param competingAllowed whether a model trained on them may compete with the teacher's provider
   */
  public record Terms(String id, String url, String version, boolean distillationAllowed, List<StudentUse> students,
      boolean competingAllowed) implements Serializable {
    public static final Key<String> ID = Key.nonEmpty("teacher.terms.id");
    public static final Key<String> URL = Key.string("teacher.terms.url");
    public static final Key<String> VERSION = Key.string("teacher.terms.version");
    public static final Key<Permission> DISTILLATION = Key.oneOf("teacher.terms.distillation", Permission.class);
    public static final Key<List<StudentUse>> STUDENTS = Key.listOf("teacher.terms.students", StudentUse.class);
    public static final Key<Permission> COMPETING = Key.oneOf("teacher.terms.competing-models", Permission.class);

    static Terms read(ConfigReader r) {
      return new Terms(r.get(ID), r.get(URL), r.get(VERSION), r.get(DISTILLATION) == Permission.ALLOWED,
          r.get(STUDENTS), r.get(COMPETING) == Permission.ALLOWED);
    }
  }

  /**
   * What the run's student is for, as the run declares it: checked against the teacher's terms before any request,
   * and again against the terms recorded on the rows train and evaluate read.
   *
   * @param signOff who decided to go ahead although the terms do not allow it, and why (null: nobody)
   * @param provider who places the student on the market, for the transparency report ("" = not stated)
   */
  public record Purpose(boolean competesWithTeacherProvider, String description, SignOff signOff, String provider)
      implements Serializable {
    public static final Key<Boolean> COMPETES = Key.bool("purpose.competes-with-teacher-provider");
    public static final Key<String> DESCRIPTION = Key.string("purpose.description");
    public static final Key<String> PROVIDER = Key.string("purpose.provider");
    public static final Key<String> SIGN_OFF = Key.string("purpose.sign-off");

    static Purpose read(ConfigReader r) {
      SignOff signOff = null;
      try {
        signOff = SignOff.parse(r.get(SIGN_OFF)).orElse(null);
      } catch (IllegalArgumentException e) {
        r.problem(SIGN_OFF, e.getMessage());
      }
      return new Purpose(r.get(COMPETES), r.get(DESCRIPTION), signOff, r.get(PROVIDER));
    }

    public Optional<SignOff> signedOff() {
      return Optional.ofNullable(signOff);
    }
  }

  /** @param answer what the run's task asks the teacher for ({@link TaskKind#answer}) */
  public record Teacher(
      TeacherKind kind,
      TeacherKind.Answer answer,
      String name,
      String version,
      String model,
      String tokenizer,
      int maxTokens,
      int intraOpThreads,
      Device device,
      int topK,
      Terms terms,
      Http http) implements Serializable {
    public static final Key<TeacherKind> KIND = Key.oneOf("teacher.kind", TeacherKind.class);
    public static final Key<String> NAME = Key.nonEmpty("teacher.name");
    public static final Key<String> VERSION = Key.nonEmpty("teacher.version");
    public static final Key<String> MODEL = Key.nonEmpty("teacher.model");
    public static final Key<String> TOKENIZER = Key.nonEmpty("teacher.tokenizer");
    public static final Key<Integer> MAX_TOKENS = Key.intBetween("teacher.max-tokens", 8, 512);
    public static final Key<Integer> INTRA_OP_THREADS = Key.intAtLeast("teacher.intra-op-threads", 1);
    public static final Key<DeviceKind> DEVICE_KIND = Key.oneOf("teacher.device.kind", DeviceKind.class);
    public static final Key<Boolean> DEVICE_CPU_FALLBACK = Key.bool("teacher.device.cpu-fallback");
    public static final Key<Integer> TOP_K = Key.intBetween("teacher.top-k", 1, 1000);

    static Teacher read(ConfigReader r, TaskKind task) {
      Teacher t = new Teacher(r.get(KIND), task.answer(), r.get(NAME), r.get(VERSION), r.get(MODEL), r.get(TOKENIZER),
          r.get(MAX_TOKENS), r.get(INTRA_OP_THREADS), Device.read(r, DEVICE_KIND, DEVICE_CPU_FALLBACK), r.get(TOP_K),
          Terms.read(r), Http.read(r));
      if (t.device().kind() == DeviceKind.GPU && t.kind() != TeacherKind.ONNX_EMBEDDING) {
        r.problem(DEVICE_KIND, "only " + KIND.is(TeacherKind.ONNX_EMBEDDING) + " runs on a GPU (ONNX Runtime's CUDA "
            + "execution provider); " + KIND.is(t.kind()) + " runs on the CPU or, remote, wherever it is served");
      }
      if (t.remote() && !t.http().baseUrl().matches("https?://[^\\s/]+(/\\S*)?")) {
        r.problem(Http.BASE_URL, KIND.is(t.kind()) + " needs the API's base URL up to /v1 (e.g. "
            + "\"http://127.0.0.1:8080/v1\"), was '" + t.http().baseUrl() + "'");
      }
      return t;
    }

    /** Whether the teacher is a remote API, asked over HTTP ({@link TeacherKind#remote}). */
    public boolean remote() {
      return kind.remote();
    }

    /** Whether it is asked to complete prompts (task language-model), not for labels or embeddings. */
    public boolean generates() {
      return answer == TeacherKind.Answer.COMPLETION;
    }
  }

  /**
   * How a remote teacher (a {@link TeacherKind#remote} kind) is asked: see teacher.http in reference.conf. The API
   * key is read on each executor from the environment variable {@code apiKeyEnv} or from the Hadoop credential
   * providers {@code credentialProviders} under {@code apiKeyAlias}; it is never part of the settings.
   */
  public record Http(
      String baseUrl,
      String apiKeyEnv,
      String apiKeyAlias,
      String credentialProviders,
      String systemPrompt,
      List<String> labels,
      int maxInFlight,
      double requestsPerMinute,
      double tokensPerMinute,
      double charsPerToken,
      int maxCompletionTokens,
      boolean returnTokenIds,
      Duration connectTimeout,
      Duration requestTimeout,
      Retry.Policy retry,
      boolean cache,
      Duration cacheRetention,
      Price price) implements Serializable {
    public static final Key<String> BASE_URL = Key.string("teacher.http.base-url");
    public static final Key<String> API_KEY_ENV = Key.string("teacher.http.api-key-env");
    public static final Key<String> API_KEY_ALIAS = Key.string("teacher.http.api-key-alias");
    public static final Key<String> CREDENTIAL_PROVIDERS = Key.string("teacher.http.credential-providers");
    public static final Key<String> SYSTEM_PROMPT = Key.string("teacher.http.system-prompt");
    public static final Key<List<String>> LABELS = Key.strings("teacher.http.labels");
    public static final Key<Integer> MAX_IN_FLIGHT = Key.intBetween("teacher.http.max-in-flight", 1, 10_000);
    public static final Key<Double> REQUESTS_PER_MINUTE = Key.nonNegative("teacher.http.requests-per-minute");
    public static final Key<Double> TOKENS_PER_MINUTE = Key.nonNegative("teacher.http.tokens-per-minute");
    public static final Key<Double> CHARS_PER_TOKEN = Key.positive("teacher.http.chars-per-token");
    public static final Key<Integer> MAX_COMPLETION_TOKENS =
        Key.intBetween("teacher.http.max-completion-tokens", 1, 1 << 20);
    public static final Key<Boolean> RETURN_TOKEN_IDS = Key.bool("teacher.http.return-token-ids");
    public static final Key<Duration> CONNECT_TIMEOUT = Key.duration("teacher.http.connect-timeout");
    public static final Key<Duration> REQUEST_TIMEOUT = Key.duration("teacher.http.request-timeout");
    public static final Key<Integer> RETRY_MAX_ATTEMPTS = Key.intBetween("teacher.http.retry.max-attempts", 1, 100);
    public static final Key<Duration> RETRY_INITIAL_BACKOFF = Key.duration("teacher.http.retry.initial-backoff");
    public static final Key<Duration> RETRY_MAX_BACKOFF = Key.duration("teacher.http.retry.max-backoff");
    public static final Key<Boolean> CACHE = Key.bool("teacher.http.cache");
    public static final Key<Duration> CACHE_RETENTION = Key.duration("teacher.http.cache-retention");

    static Http read(ConfigReader r) {
      Retry.Policy retry = new Retry.Policy(r.get(RETRY_MAX_ATTEMPTS), r.get(RETRY_INITIAL_BACKOFF),
          r.get(RETRY_MAX_BACKOFF));
      Http h = new Http(r.get(BASE_URL).replaceAll("/+$", ""), r.get(API_KEY_ENV), r.get(API_KEY_ALIAS),
          r.get(CREDENTIAL_PROVIDERS), r.get(SYSTEM_PROMPT), r.get(LABELS), r.get(MAX_IN_FLIGHT),
          r.get(REQUESTS_PER_MINUTE), r.get(TOKENS_PER_MINUTE), r.get(CHARS_PER_TOKEN), r.get(MAX_COMPLETION_TOKENS),
          r.get(RETURN_TOKEN_IDS), r.get(CONNECT_TIMEOUT), r.get(REQUEST_TIMEOUT), retry, r.get(CACHE),
          r.get(CACHE_RETENTION), Price.read(r));
      if (!h.apiKeyEnv().isEmpty() && !h.apiKeyAlias().isEmpty()) {
        r.problem(API_KEY_ALIAS, "set either " + API_KEY_ENV.path() + " or " + API_KEY_ALIAS.path() + ", not both "
            + "(were '" + h.apiKeyEnv() + "' and '" + h.apiKeyAlias() + "')");
      }
      if (!h.credentialProviders().isEmpty() && h.apiKeyAlias().isEmpty()) {
        r.problem(CREDENTIAL_PROVIDERS, "is only read for " + API_KEY_ALIAS.path() + ", which is empty");
      }
      if (retry.maxBackoff().compareTo(retry.initialBackoff()) < 0) {
        r.problem(RETRY_MAX_BACKOFF, "must be >= " + RETRY_INITIAL_BACKOFF.path());
      }
      return h;
    }
  }

  /** Price of a remote teacher's tokens, in {@code currency} per million tokens. */
  public record Price(double inputPerMillionTokens, double outputPerMillionTokens, String currency)
      implements Serializable {
    public static final Key<Double> INPUT = Key.nonNegative("teacher.http.price.input-per-million-tokens");
    public static final Key<Double> OUTPUT = Key.nonNegative("teacher.http.price.output-per-million-tokens");
    public static final Key<String> CURRENCY = Key.string("teacher.http.price.currency");

    static Price read(ConfigReader r) {
      return new Price(r.get(INPUT), r.get(OUTPUT), r.get(CURRENCY));
    }

    public double cost(long inputTokens, long outputTokens) {
      return (inputTokens * inputPerMillionTokens + outputTokens * outputPerMillionTokens) / 1e6;
    }
  }

  /** Per-run spending limits of a remote teacher; 0 = no limit. */
  public record Budget(long maxTokens, double maxCost) implements Serializable {
    public static final Key<Long> MAX_TOKENS = Key.longAtLeast("generate.budget.max-tokens", 0);
    public static final Key<Double> MAX_COST = Key.nonNegative("generate.budget.max-cost");

    static Budget read(ConfigReader r) {
      return new Budget(r.get(MAX_TOKENS), r.get(MAX_COST));
    }

    /** This budget split evenly over {@code parts} (each at least one token when tokens are limited). */
    public Budget share(int parts) {
      return new Budget(maxTokens == 0 ? 0 : Math.max(1, maxTokens / parts), maxCost / parts);
    }
  }

  /**
   * How a language-model teacher samples a completion: all of it is part of the request, so a change to any of it is
   * a new request.
   *
   * @param temperature 0 = greedy (the most probable token every step)
   * @param topP nucleus sampling: the smallest set of most probable tokens whose mass reaches it (1 = all)
   * @param topK only the k most probable tokens are drawn from (0 = no such cut)
   * @param maxTokens the most tokens a completion has
   * @param stop texts that end a completion where they appear (not included)
   * @param seed the seed every sample's own derives from ({@link #forSample}): the same prompt, parameters and
   *     seed give the same completion
   */
  public record Sampling(double temperature, double topP, int topK, int maxTokens, List<String> stop, long seed)
      implements Serializable {
    public static final Key<Double> TEMPERATURE = Key.doubleBetween("generate.sampling.temperature", 0, 10);
    public static final Key<Double> TOP_P = Key.doubleBetween("generate.sampling.top-p", 0, 1);
    public static final Key<Integer> TOP_K = Key.intBetween("generate.sampling.top-k", 0, 1 << 20);
    public static final Key<Integer> MAX_TOKENS = Key.intBetween("generate.sampling.max-tokens", 1, 1 << 16);
    public static final Key<List<String>> STOP = Key.strings("generate.sampling.stop");
    public static final Key<Long> SEED = Key.anyLong("generate.sampling.seed");

    public Sampling {
      stop = List.copyOf(stop);
    }

    static Sampling read(ConfigReader r) {
      Sampling s = new Sampling(r.get(TEMPERATURE), r.get(TOP_P), r.get(TOP_K), r.get(MAX_TOKENS), r.get(STOP),
          r.get(SEED));
      if (!(s.topP() > 0)) {
        r.problem(TOP_P, "must be in (0, 1] (1 = every token), was " + s.topP());
      }
      return s;
    }

    /** The same sampling with another seed (the n-th sample of a prompt). */
    public Sampling withSeed(long newSeed) {
      return new Sampling(temperature, topP, topK, maxTokens, stop, newSeed);
    }

    /**
     * The sampling of one prompt's {@code sample}-th sample: its seed derived from this seed, the prompt's id and the
     * sample index, so that every sample of every prompt draws differently (with one seed per sample index, prompts
     * that differ in a detail the model ignores got the same completion: bench/README.md) and a run is still
     * reproducible.
     */
    public Sampling forSample(String promptId, long sample) {
      String h = Hashing.sha256Hex("seed:" + seed + ":" + promptId + "#" + sample);
      return withSeed(Long.parseUnsignedLong(h.substring(0, 15), 16));
    }
  }

  /**
   * Which teacher completions are quarantined before they are written (task language-model; see
   * generate.quality in reference.conf).
   */
  public record Quality(int minTokens, boolean wholeAnswers, boolean duplicates) implements Serializable {
    public static final Key<Integer> MIN_TOKENS = Key.intBetween("generate.quality.min-tokens", 1, 1 << 16);
    public static final Key<Boolean> WHOLE_ANSWERS = Key.bool("generate.quality.whole-answers");
    public static final Key<Boolean> DUPLICATES = Key.bool("generate.quality.quarantine-duplicates");

    static Quality read(ConfigReader r) {
      return new Quality(r.get(MIN_TOKENS), r.get(WHOLE_ANSWERS), r.get(DUPLICATES));
    }
  }

  /** @param samples completions per prompt (task language-model), each with its own seed */
  public record Generate(double maxFailureFraction, Budget budget, int samples, Sampling sampling, Quality quality)
      implements Serializable {
    public static final Key<Double> MAX_FAILURE_FRACTION = Key.doubleBetween("generate.max-failure-fraction", 0, 1);
    public static final Key<Integer> SAMPLES = Key.intBetween("generate.samples", 1, 1000);

    static Generate read(ConfigReader r) {
      return new Generate(r.get(MAX_FAILURE_FRACTION), Budget.read(r), r.get(SAMPLES), Sampling.read(r),
          Quality.read(r));
    }
  }

  public record Student(StudentKind kind, StudentInit init, double contextPrior, int width, int minTokenCount,
      int knownWords, int maxTokens, int hidden, CharNgrams charNgrams) implements Serializable {
    public static final Key<StudentKind> KIND = Key.oneOf("student.kind", StudentKind.class);
    public static final Key<StudentInit> INIT = Key.oneOf("student.init", StudentInit.class);
    public static final Key<Double> CONTEXT_PRIOR = Key.doubleBetween("student.context-prior", 0, 1e9);
    public static final Key<Integer> WIDTH = Key.intAtLeast("student.width", 8);
    public static final Key<Integer> MIN_TOKEN_COUNT = Key.intAtLeast("student.min-token-count", 1);
    public static final Key<Integer> KNOWN_WORDS = Key.intBetween("student.known-words", 0, 1 << 18);
    public static final Key<Integer> MAX_TOKENS = Key.intBetween("student.max-tokens", 4, 512);
    public static final Key<Integer> HIDDEN = Key.intAtLeast("student.hidden", 0);

    static Student read(ConfigReader r) {
      return new Student(r.get(KIND), r.get(INIT), r.get(CONTEXT_PRIOR), r.get(WIDTH), r.get(MIN_TOKEN_COUNT),
          r.get(KNOWN_WORDS), r.get(MAX_TOKENS), r.get(HIDDEN), CharNgrams.read(r));
    }

    public boolean initFromTeacherTokens() {
      return init == StudentInit.TEACHER_TOKENS;
    }

    public boolean initFromTeacherContexts() {
      return init == StudentInit.TEACHER_CONTEXT;
    }

    /** Token vectors start from the teacher's own (teacher-context or teacher-tokens). */
    public boolean initFromTeacher() {
      return init != StudentInit.RANDOM;
    }
  }

  /** Hashed character n-grams of the classify student's input (see student.char-ngrams in reference.conf). */
  public record CharNgrams(int min, int max, int buckets, int maxChars) implements Serializable {
    public static final Key<Integer> MIN = Key.intBetween("student.char-ngrams.min", 1, 8);
    public static final Key<Integer> MAX = Key.intBetween("student.char-ngrams.max", 1, 8);
    public static final Key<Integer> BUCKETS = Key.intBetween("student.char-ngrams.buckets", 16, 1 << 24);
    public static final Key<Integer> MAX_CHARS = Key.intBetween("student.char-ngrams.max-chars", 8, 100_000);

    static CharNgrams read(ConfigReader r) {
      CharNgrams n = new CharNgrams(r.get(MIN), r.get(MAX), r.get(BUCKETS), r.get(MAX_CHARS));
      if (n.max() < n.min()) {
        r.problem(MAX, "must be >= " + MIN.path() + " (" + n.min() + "), was " + n.max());
      }
      return n;
    }
  }

  /**
   * Distillation losses. Embed: {@code cosineWeight}, {@code mseWeight}. Classify: {@code softLabelWeight} (the
   * α of α·T²·KL + (1−α)·CE) and {@code temperature} (T).
   */
  public record Loss(double cosineWeight, double mseWeight, double softLabelWeight, double temperature)
      implements Serializable {
    public static final Key<Double> COSINE_WEIGHT = Key.nonNegative("train.loss.cosine-weight");
    public static final Key<Double> MSE_WEIGHT = Key.nonNegative("train.loss.mse-weight");
    public static final Key<Double> SOFT_LABEL_WEIGHT = Key.doubleBetween("train.loss.soft-label-weight", 0, 1);
    public static final Key<Double> TEMPERATURE = Key.doubleBetween("train.loss.temperature", 0.05, 100);

    static Loss read(ConfigReader r) {
      Loss l = new Loss(r.get(COSINE_WEIGHT), r.get(MSE_WEIGHT), r.get(SOFT_LABEL_WEIGHT), r.get(TEMPERATURE));
      if (l.cosineWeight() == 0 && l.mseWeight() == 0) {
        r.problem(MSE_WEIGHT, COSINE_WEIGHT.path() + " and " + MSE_WEIGHT.path() + " must not both be 0");
      }
      return l;
    }

    public Loss withSoftLabelWeight(double alpha) {
      return new Loss(cosineWeight, mseWeight, alpha, temperature);
    }
  }

  public record Train(
      int epochs,
      int batchSize,
      int averagingFrequency,
      int workers,
      double learningRate,
      TableUpdates tableUpdates,
      long seed,
      double fraction,
      Loss loss,
      boolean hardLabelAblation,
      Device device) implements Serializable {
    public static final Key<Integer> EPOCHS = Key.intAtLeast("train.epochs", 1);
    public static final Key<Integer> BATCH_SIZE = Key.intAtLeast("train.batch-size", 1);
    public static final Key<Integer> AVERAGING_FREQUENCY = Key.intAtLeast("train.averaging-frequency", 1);
    public static final Key<Integer> WORKERS = Key.intAtLeast("train.workers", 0);
    public static final Key<Double> LEARNING_RATE = Key.positive("train.learning-rate");
    public static final Key<TableUpdates> TABLE_UPDATES = Key.oneOf("train.table-updates", TableUpdates.class);
    public static final Key<Long> SEED = Key.anyLong("train.seed");
    public static final Key<Double> FRACTION = Key.doubleBetween("train.fraction", 0, 1);
    public static final Key<Boolean> HARD_LABEL_ABLATION = Key.bool("train.hard-label-ablation");
    public static final Key<DeviceKind> DEVICE_KIND = Key.oneOf("train.device.kind", DeviceKind.class);
    public static final Key<Boolean> DEVICE_CPU_FALLBACK = Key.bool("train.device.cpu-fallback");

    static Train read(ConfigReader r) {
      Train t = new Train(r.get(EPOCHS), r.get(BATCH_SIZE), r.get(AVERAGING_FREQUENCY), r.get(WORKERS),
          r.get(LEARNING_RATE), r.get(TABLE_UPDATES), r.get(SEED), r.get(FRACTION), Loss.read(r),
          r.get(HARD_LABEL_ABLATION), Device.read(r, DEVICE_KIND, DEVICE_CPU_FALLBACK));
      if (!(t.fraction() > 0)) {
        r.problem(FRACTION, "must be in (0, 1] (1 = the whole training split), was " + t.fraction());
      }
      return t;
    }

    public Train withLoss(Loss newLoss) {
      return new Train(epochs, batchSize, averagingFrequency, workers, learningRate, tableUpdates, seed, fraction,
          newLoss, hardLabelAblation, device);
    }


    /** Whether Adam updates only the table rows a minibatch reads (train.table-updates = lazy). */
    public boolean lazyTableUpdates() {
      return tableUpdates == TableUpdates.LAZY;
    }
  }

  /** serve-teacher: where and how the OpenAI-compatible teacher server listens. */
  public record Serve(String host, int port, String tokenEnv, int maxConcurrent, int maxQueued, int maxBodyBytes,
      int maxInputs, Duration requestTimeout) implements Serializable {
    public static final Key<String> HOST = Key.nonEmpty("serve.host");
    public static final Key<Integer> PORT = Key.intBetween("serve.port", 0, 65535);
    public static final Key<String> TOKEN_ENV = Key.string("serve.token-env");
    public static final Key<Integer> MAX_CONCURRENT = Key.intAtLeast("serve.max-concurrent", 1);
    public static final Key<Integer> MAX_QUEUED = Key.intAtLeast("serve.max-queued", 1);
    public static final Key<Integer> MAX_BODY_BYTES = Key.intAtLeast("serve.max-body-bytes", 1024);
    public static final Key<Integer> MAX_INPUTS = Key.intBetween("serve.max-inputs", 1, 2048);
    public static final Key<Duration> REQUEST_TIMEOUT = Key.duration("serve.request-timeout");

    static Serve read(ConfigReader r) {
      return new Serve(r.get(HOST), r.get(PORT), r.get(TOKEN_ENV), r.get(MAX_CONCURRENT), r.get(MAX_QUEUED),
          r.get(MAX_BODY_BYTES), r.get(MAX_INPUTS), r.get(REQUEST_TIMEOUT));
    }
  }

  /**
   * @param maxRegression how much worse than the promoted student's a gated metric may be, as a fraction of it
   */
  public record Gate(double minMeanCosine, double minNeighbourRecall, double minAgreement,
      double maxPerplexityRatio, double minTokenAgreement, double maxRegression) implements Serializable {
    public static final Key<Double> MIN_MEAN_COSINE = Key.doubleBetween("evaluate.gate.min-mean-cosine", -1, 1);
    public static final Key<Double> MIN_NEIGHBOUR_RECALL =
        Key.doubleBetween("evaluate.gate.min-neighbour-recall", 0, 1);
    public static final Key<Double> MIN_AGREEMENT = Key.doubleBetween("evaluate.gate.min-agreement", 0, 1);
    public static final Key<Double> MAX_PERPLEXITY_RATIO =
        Key.doubleBetween("evaluate.gate.max-perplexity-ratio", 1, 1e9);
    public static final Key<Double> MIN_TOKEN_AGREEMENT = Key.doubleBetween("evaluate.gate.min-token-agreement", 0, 1);
    public static final Key<Double> MAX_REGRESSION = Key.doubleBetween("evaluate.gate.max-regression", 0, 1);

    static Gate read(ConfigReader r) {
      return new Gate(r.get(MIN_MEAN_COSINE), r.get(MIN_NEIGHBOUR_RECALL), r.get(MIN_AGREEMENT),
          r.get(MAX_PERPLEXITY_RATIO), r.get(MIN_TOKEN_AGREEMENT), r.get(MAX_REGRESSION));
    }
  }

  public record Evaluate(
      int neighbours,
      int pairwiseRows,
      int throughputRows,
      Duration throughputWindow,
      int studentBatchSize,
      int calibrationBins,
      int samples,
      Gate gate) implements Serializable {
    public static final Key<Integer> NEIGHBOURS = Key.intAtLeast("evaluate.neighbours", 1);
    public static final Key<Integer> PAIRWISE_ROWS = Key.intAtLeast("evaluate.pairwise-rows", 2);
    public static final Key<Integer> THROUGHPUT_ROWS = Key.intAtLeast("evaluate.throughput-rows", 1);
    public static final Key<Duration> THROUGHPUT_WINDOW = Key.duration("evaluate.throughput-window");
    public static final Key<Integer> STUDENT_BATCH_SIZE = Key.intAtLeast("evaluate.student-batch-size", 1);
    public static final Key<Integer> CALIBRATION_BINS = Key.intBetween("evaluate.calibration-bins", 2, 1000);
    public static final Key<Integer> SAMPLES = Key.intBetween("evaluate.samples", 0, 1000);

    static Evaluate read(ConfigReader r) {
      Evaluate e = new Evaluate(r.get(NEIGHBOURS), r.get(PAIRWISE_ROWS), r.get(THROUGHPUT_ROWS),
          r.get(THROUGHPUT_WINDOW), r.get(STUDENT_BATCH_SIZE), r.get(CALIBRATION_BINS), r.get(SAMPLES), Gate.read(r));
      if (e.pairwiseRows() <= e.neighbours()) {
        r.problem(PAIRWISE_ROWS, "must be >= " + NEIGHBOURS.path() + " + 1 (" + (e.neighbours() + 1) + "), was "
            + e.pairwiseRows());
      }
      return e;
    }
  }

  /**
   * Where the datasets' Iceberg tables live and how they are kept: see tables in reference.conf. Not part of any
   * stage's key: a table's location is where a stage's output goes, not what it is.
   */
  public record Tables(TableCatalog catalog, String warehouse, String uri, String namespace, String sparkCatalog,
      Duration snapshotRetention, Duration orphanRetention) implements Serializable {
    public static final Key<TableCatalog> CATALOG = Key.oneOf("tables.catalog", TableCatalog.class);
    public static final Key<String> WAREHOUSE = Key.string("tables.warehouse");
    public static final Key<String> URI = Key.string("tables.uri");
    public static final Key<String> NAMESPACE = Key.matching("tables.namespace", Pattern.compile("[a-z][a-z0-9_]*"),
        "a lower-case identifier ([a-z][a-z0-9_]*)");
    public static final Key<String> SPARK_CATALOG = Key.matching("tables.spark-catalog",
        Pattern.compile("[a-z][a-z0-9_]*"), "a lower-case identifier ([a-z][a-z0-9_]*)");
    public static final Key<Duration> SNAPSHOT_RETENTION = Key.duration("tables.maintain.snapshot-retention");
    public static final Key<Duration> ORPHAN_RETENTION = Key.duration("tables.maintain.orphan-retention");

    static Tables read(ConfigReader r) {
      Tables t = new Tables(r.get(CATALOG), r.get(WAREHOUSE), r.get(URI), r.get(NAMESPACE), r.get(SPARK_CATALOG),
          r.get(SNAPSHOT_RETENTION), r.get(ORPHAN_RETENTION));
      if (t.catalog() != TableCatalog.HADOOP && t.uri().isBlank()) {
        r.problem(URI, "is required when " + CATALOG.is(t.catalog()) + " (e.g. "
            + (t.catalog() == TableCatalog.HIVE ? "thrift://metastore:9083" : "https://catalog.example.com/api")
            + ")");
      }
      return t;
    }
  }

  /** The same settings with another train section (e.g. an ablation's loss). */
  public Settings withTrain(Train newTrain) {
    return new Settings(run, task, spark, corpus, teacher, generate, student, newTrain, serve, evaluate, tables,
        purpose, progress, sectionHashes);
  }

  /**
   * Layers, highest priority first: {@code overrides} (CLI --set), system properties
   * ({@code -Ddistillery.x=y}), the config file (if any), reference.conf. Then validates.
   */
  public static Settings load(Optional<Path> configFile, Map<String, String> overrides) {
    Map<String, String> scalars = new TreeMap<>();
    Map<String, String> lists = new TreeMap<>();
    overrides.forEach((k, v) -> (v.strip().startsWith("[") && v.strip().endsWith("]") ? lists : scalars).put(k, v));
    Config config = ConfigFactory.parseMap(scalars, "command line");
    for (Map.Entry<String, String> list : lists.entrySet()) { // --set key=[a, b]: a HOCON list
      try {
        config = config.withValue(list.getKey(), ConfigFactory.parseString("v = " + list.getValue(),
            ConfigParseOptions.defaults().setOriginDescription("command line")).getValue("v"));
      } catch (ConfigException e) {
        throw new SettingsException(List.of(list.getKey() + ": not a list (" + e.getMessage() + ")"));
      }
    }
    Config system = ConfigFactory.systemProperties();
    config = config.withFallback(system.hasPath(ROOT) ? system.withOnlyPath(ROOT) : ConfigFactory.empty());
    if (configFile.isPresent()) {
      Path file = configFile.get();
      if (!Files.isRegularFile(file)) {
        throw new SettingsException(List.of("--config: no such file " + file.toAbsolutePath()));
      }
      config = config.withFallback(ConfigFactory.parseFile(file.toFile()));
    }
    return from(config.withFallback(reference()).resolve());
  }

  /**
   * The reference.conf files on the classpath, alone. (ConfigFactory.defaultReference() already has the system
   * properties merged in, which would make a mistyped -D key look declared.)
   */
  static Config reference() {
    return ConfigFactory.parseResources(Settings.class.getClassLoader(), "reference.conf").resolve();
  }

  /** Validates a fully resolved config (reference.conf included) and builds the settings. */
  public static Settings from(Config resolved) {
    Config reference = reference();
    List<String> problems = new ArrayList<>(unknownKeys(resolved, reference));
    try {
      resolved.checkValid(reference, ROOT);
    } catch (ConfigException.ValidationFailed e) {
      e.problems().forEach(p -> problems.add(p.path() + ": " + p.problem()));
    }
    if (!problems.isEmpty()) {
      throw new SettingsException(problems);
    }
    Config c = resolved.getConfig(ROOT);
    ConfigReader r = new ConfigReader(c);
    TaskKind task = r.get(TASK);
    Settings settings = new Settings(Run.read(r), task, Spark.read(r), Corpus.read(r), Teacher.read(r, task),
        Generate.read(r), Student.read(r), Train.read(r), Serve.read(r), Evaluate.read(r), Tables.read(r),
        Purpose.read(r), ProgressLines.read(r), sectionHashes(c));
    settings.checkCombinations(r);
    r.throwIfProblems();
    return settings;
  }

  /** The rules that span sections: which teacher and student kinds a task runs with, and how a student starts. */
  private void checkCombinations(ConfigReader r) {
    if (!task.teachers().contains(teacher.kind())) {
      r.problem(Teacher.KIND, "task " + task + " needs " + Teacher.KIND.path() + " in "
          + new TreeSet<>(task.teachers().stream().map(TeacherKind::configName).toList()) + ", was "
          + teacher.kind());
    }
    if (student.kind() != task.student() && student.kind() != StudentKind.NONE) {
      r.problem(Student.KIND, "task " + task + " needs " + Student.KIND.is(task.student()) + " (or none: corpus "
          + "generation only), was " + student.kind());
    }
    if (student.kind() == StudentKind.NONE) {
      return; // no student: nothing starts from the teacher
    }
    if (teacher.remote() && student.initFromTeacher()) {
      r.problem(Student.INIT, student.init() + " needs an in-process teacher whose hidden states and single-token "
          + "embeddings it can read; with " + Teacher.KIND.is(teacher.kind()) + " use " + Student.INIT.path()
          + " = random");
    }
    if (!task.studentStartsFromTeacher() && student.initFromTeacher()) {
      r.problem(Student.INIT, student.init() + " needs an embedding teacher; task " + task + " needs "
          + Student.INIT.path() + " = random");
    }
  }

  /** Hash of the named config sections, e.g. "corpus" or "teacher": stages compare these to reuse work. */
  public String hashOf(List<String> sections) {
    StringBuilder sb = new StringBuilder();
    for (String s : sections) {
      String h = sectionHashes.get(s);
      if (h == null) {
        throw new IllegalArgumentException("no config section " + s);
      }
      sb.append(s).append('=').append(h).append(';');
    }
    return Hashing.sha256Hex(sb.toString()).substring(0, 16);
  }

  /**
   * Each section's hash over its values alone: rendered concise, because the default rendering of a list carries the
   * file and line it came from, which made a key depend on where reference.conf was loaded from.
   */
  private static Map<String, String> sectionHashes(Config c) {
    Map<String, String> hashes = new TreeMap<>();
    for (String section : c.root().keySet()) {
      Map<String, String> flat = new TreeMap<>();
      ConfigValue v = c.root().get(section);
      if (v instanceof ConfigObject o) {
        o.toConfig().entrySet().forEach(e -> flat.put(e.getKey(), e.getValue().render(ConfigRenderOptions.concise())));
      } else {
        flat.put("", v.render(ConfigRenderOptions.concise()));
      }
      hashes.put(section, Hashing.sha256Hex(flat.toString()));
    }
    return Map.copyOf(hashes);
  }

  private static List<String> unknownKeys(Config resolved, Config reference) {
    if (!resolved.hasPath(ROOT)) {
      return List.of();
    }
    Config known = reference.getConfig(ROOT);
    List<String> unknown = new ArrayList<>();
    for (Map.Entry<String, ConfigValue> e : resolved.getConfig(ROOT).entrySet()) {
      if (!known.hasPathOrNull(e.getKey())) {
        unknown.add(ROOT + "." + e.getKey() + ": unknown key (from " + e.getValue().origin().description()
            + "); check its spelling against reference.conf");
      }
    }
    return unknown;
  }
}
