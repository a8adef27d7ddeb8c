package io.distillery.settings;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValue;
import io.distillery.util.Hashing;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The whole, validated, immutable configuration of a Distillery run. Built once at start-up by
 * {@link #load} and passed around; nothing else reads Typesafe Config.
 */
public record Settings(
    Run run,
    String task,
    Spark spark,
    Corpus corpus,
    Teacher teacher,
    Generate generate,
    Student student,
    Train train,
    Serve serve,
    Evaluate evaluate,
    Map<String, String> sectionHashes) implements Serializable {

  public static final String ROOT = "distillery";

  public record Run(String id, String root) implements Serializable {}

  public record Spark(String master, String appName, int partitions) implements Serializable {}

  public record Corpus(
      String source,
      String unit,
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
      double testFraction) implements Serializable {}

  public record Terms(String id, String url, boolean distillationAllowed) implements Serializable {}

  public record Teacher(
      String kind,
      String name,
      String version,
      String model,
      String tokenizer,
      int maxTokens,
      int intraOpThreads,
      int topK,
      Terms terms,
      Http http) implements Serializable {
    /** Whether the teacher is a remote OpenAI-compatible API (kinds openai-*), asked over HTTP. */
    public boolean remote() {
      return kind.startsWith("openai-");
    }
  }

  /**
   * How a remote teacher (teacher.kind = openai-embeddings, openai-chat or openai-completions) is asked: see
   * teacher.http in reference.conf. The API key is read on each executor from the environment variable {@code apiKeyEnv} or
   * from the Hadoop credential providers {@code credentialProviders} under {@code apiKeyAlias}; it is never part
   * of the settings.
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
      Duration connectTimeout,
      Duration requestTimeout,
      Retry retry,
      boolean cache,
      Price price) implements Serializable {}

  /** The one retry policy's parameters: attempts in all (first included) and exponential backoff bounds. */
  public record Retry(int maxAttempts, Duration initialBackoff, Duration maxBackoff) implements Serializable {}

  /** Price of a remote teacher's tokens, in {@code currency} per million tokens. */
  public record Price(double inputPerMillionTokens, double outputPerMillionTokens, String currency)
      implements Serializable {
    public double cost(long inputTokens, long outputTokens) {
      return (inputTokens * inputPerMillionTokens + outputTokens * outputPerMillionTokens) / 1e6;
    }
  }

  /** Per-run spending limits of a remote teacher; 0 = no limit. */
  public record Budget(long maxTokens, double maxCost) implements Serializable {
    public boolean limited() {
      return maxTokens > 0 || maxCost > 0;
    }
  }

  public record Generate(double maxFailureFraction, Budget budget) implements Serializable {}

  public record Student(String kind, String init, double contextPrior, int width, int minTokenCount, int maxTokens,
      int hidden, CharNgrams charNgrams) implements Serializable {
    public boolean initFromTeacherTokens() {
      return init.equals("teacher-tokens");
    }

    public boolean initFromTeacherContexts() {
      return init.equals("teacher-context");
    }

    /** Token vectors start from the teacher's own (teacher-context or teacher-tokens). */
    public boolean initFromTeacher() {
      return initFromTeacherTokens() || initFromTeacherContexts();
    }
  }

  /** Hashed character n-grams of the classify student's input (see student.char-ngrams in reference.conf). */
  public record CharNgrams(int min, int max, int buckets, int maxChars) implements Serializable {}

  /**
   * Distillation losses. Embed: {@code cosineWeight}, {@code mseWeight}. Classify: {@code softLabelWeight} (the
   * α of α·T²·KL + (1−α)·CE) and {@code temperature} (T).
   */
  public record Loss(double cosineWeight, double mseWeight, double softLabelWeight, double temperature)
      implements Serializable {
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
      String tableUpdates,
      long seed,
      double fraction,
      Loss loss,
      boolean hardLabelAblation) implements Serializable {
    public Train withLoss(Loss newLoss) {
      return new Train(epochs, batchSize, averagingFrequency, workers, learningRate, tableUpdates, seed, fraction,
          newLoss, hardLabelAblation);
    }

    /** Whether Adam updates only the table rows a minibatch reads (train.table-updates = lazy). */
    public boolean lazyTableUpdates() {
      return tableUpdates.equals("lazy");
    }
  }

  /** serve-teacher: where and how the OpenAI-compatible teacher server listens. */
  public record Serve(String host, int port, String tokenEnv, int maxConcurrent, int maxQueued, int maxBodyBytes)
      implements Serializable {}

  public record Gate(double minMeanCosine, double minNeighbourRecall, double minAgreement)
      implements Serializable {}

  public record Evaluate(
      int neighbours,
      int pairwiseRows,
      int throughputRows,
      int studentBatchSize,
      int calibrationBins,
      Gate gate) implements Serializable {}

  /** The same settings with another train section (e.g. an ablation's loss). */
  public Settings withTrain(Train newTrain) {
    return new Settings(run, task, spark, corpus, teacher, generate, student, newTrain, serve, evaluate,
        sectionHashes);
  }

  /** Task kinds and the teacher and student kinds each one runs with. */
  private static final Map<String, TaskKinds> TASK_KINDS = Map.of(
      "embed", new TaskKinds(Set.of("onnx-embedding", "openai-embeddings"), "static-embedding"),
      "classify", new TaskKinds(Set.of("opennlp-langdetect", "openai-chat", "openai-completions"), "char-ngram-mlp"));

  private record TaskKinds(Set<String> teachers, String student) {}

  private static final Pattern RUN_ID = Pattern.compile("[A-Za-z0-9._-]{1,128}");

  /**
   * Layers, highest priority first: {@code overrides} (CLI --set), system properties
   * ({@code -Ddistillery.x=y}), the config file (if any), reference.conf. Then validates.
   */
  public static Settings load(Optional<Path> configFile, Map<String, String> overrides) {
    Config config = ConfigFactory.parseMap(overrides, "command line");
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
  private static Config reference() {
    return ConfigFactory.parseResources(Settings.class.getClassLoader(), "reference.conf").resolve();
  }

  /** Validates a fully resolved config (reference.conf included) and builds the settings. */
  public static Settings from(Config resolved) {
    Config reference = reference();
    List<String> problems = new ArrayList<>(unknownKeys(resolved, reference));
    try {
      resolved.checkValid(reference, ROOT);
    } catch (com.typesafe.config.ConfigException.ValidationFailed e) {
      e.problems().forEach(p -> problems.add(p.path() + ": " + p.problem()));
    }
    if (!problems.isEmpty()) {
      throw new SettingsException(problems);
    }
    Config c = resolved.getConfig(ROOT);
    ConfigReader r = new ConfigReader(c);

    Run run = new Run(r.matching("run.id", RUN_ID, "letters, digits, '.', '_' or '-' (1 to 128)"),
        nonEmpty(r, "run.root"));
    String task = r.oneOf("task", TASK_KINDS.keySet());
    Spark spark = new Spark(r.string("spark.master"), nonEmpty(r, "spark.app-name"),
        r.intAtLeast("spark.partitions", 1));

    String source = r.oneOf("corpus.source", Set.of("europarl", "text", "jsonl", "parquet"));
    String path = r.string("corpus.path");
    if (!source.equals("europarl") && path.isBlank()) {
      r.problem("corpus.path", "is required when corpus.source = " + source);
    }
    int minWords = r.intAtLeast("corpus.min-words", 1);
    int maxWords = r.intAtLeast("corpus.max-words", 1);
    if (maxWords < minWords) {
      r.problem("corpus.max-words", "must be >= corpus.min-words (" + minWords + "), was " + maxWords);
    }
    String labelColumn = r.string("corpus.label-column");
    if (!labelColumn.isEmpty() && !Set.of("jsonl", "parquet").contains(source)) {
      r.problem("corpus.label-column", "needs corpus.source = jsonl or parquet (a column to read), was " + source);
    }
    Corpus corpus = new Corpus(source, r.oneOf("corpus.unit", Set.of("sentence", "document")), path,
        nonEmpty(r, "corpus.column"), labelColumn, r.strings("corpus.languages"),
        r.intAtLeast("corpus.detect-chars", 32), minWords, maxWords, r.intAtLeast("corpus.max-chars", 1),
        r.intAtLeast("corpus.spans-per-sentence", 0), r.intAtLeast("corpus.max-documents", 0), r.doubleBetween("corpus.validation-fraction", 0, 0.5),
        r.doubleBetween("corpus.test-fraction", 0, 0.5));

    Terms terms = new Terms(nonEmpty(r, "teacher.terms.id"), r.string("teacher.terms.url"),
        r.oneOf("teacher.terms.distillation", Set.of("allowed", "forbidden")).equals("allowed"));
    Http http = new Http(r.string("teacher.http.base-url").replaceAll("/+$", ""), r.string("teacher.http.api-key-env"),
        r.string("teacher.http.api-key-alias"), r.string("teacher.http.credential-providers"),
        r.string("teacher.http.system-prompt"), r.strings("teacher.http.labels"),
        r.intBetween("teacher.http.max-in-flight", 1, 10_000),
        r.doubleBetween("teacher.http.requests-per-minute", 0, Double.MAX_VALUE),
        r.doubleBetween("teacher.http.tokens-per-minute", 0, Double.MAX_VALUE),
        r.doublePositive("teacher.http.chars-per-token"), r.intBetween("teacher.http.max-completion-tokens", 1, 1 << 20),
        r.duration("teacher.http.connect-timeout"), r.duration("teacher.http.request-timeout"),
        new Retry(r.intBetween("teacher.http.retry.max-attempts", 1, 100), r.duration("teacher.http.retry.initial-backoff"),
            r.duration("teacher.http.retry.max-backoff")),
        r.bool("teacher.http.cache"),
        new Price(r.doubleBetween("teacher.http.price.input-per-million-tokens", 0, Double.MAX_VALUE),
            r.doubleBetween("teacher.http.price.output-per-million-tokens", 0, Double.MAX_VALUE),
            r.string("teacher.http.price.currency")));
    Teacher teacher = new Teacher(r.oneOf("teacher.kind",
            Set.of("onnx-embedding", "opennlp-langdetect", "openai-embeddings", "openai-chat", "openai-completions")),
        nonEmpty(r, "teacher.name"), nonEmpty(r, "teacher.version"), nonEmpty(r, "teacher.model"),
        nonEmpty(r, "teacher.tokenizer"), r.intBetween("teacher.max-tokens", 8, 512),
        r.intAtLeast("teacher.intra-op-threads", 1), r.intBetween("teacher.top-k", 1, 1000), terms, http);
    if (teacher.remote() && !http.baseUrl().matches("https?://[^\\s/]+(/\\S*)?")) {
      r.problem("teacher.http.base-url", "teacher.kind = " + teacher.kind() + " needs the API's base URL up to /v1 "
          + "(e.g. \"http://127.0.0.1:8080/v1\"), was '" + http.baseUrl() + "'");
    }
    if (!http.apiKeyEnv().isEmpty() && !http.apiKeyAlias().isEmpty()) {
      r.problem("teacher.http.api-key-alias", "set either teacher.http.api-key-env or teacher.http.api-key-alias, "
          + "not both (were '" + http.apiKeyEnv() + "' and '" + http.apiKeyAlias() + "')");
    }
    if (!http.credentialProviders().isEmpty() && http.apiKeyAlias().isEmpty()) {
      r.problem("teacher.http.credential-providers", "is only read for teacher.http.api-key-alias, which is empty");
    }
    if (http.retry().maxBackoff().compareTo(http.retry().initialBackoff()) < 0) {
      r.problem("teacher.http.retry.max-backoff", "must be >= teacher.http.retry.initial-backoff");
    }

    Generate generate = new Generate(r.doubleBetween("generate.max-failure-fraction", 0, 1), new Budget(r.longValue("generate.budget.max-tokens"),
            r.doubleBetween("generate.budget.max-cost", 0, Double.MAX_VALUE)));
    if (generate.budget().maxTokens() < 0) {
      r.problem("generate.budget.max-tokens", "must be >= 0 (0 = no limit), was " + generate.budget().maxTokens());
    }
    int ngramMin = r.intBetween("student.char-ngrams.min", 1, 8);
    int ngramMax = r.intBetween("student.char-ngrams.max", 1, 8);
    if (ngramMax < ngramMin) {
      r.problem("student.char-ngrams.max", "must be >= student.char-ngrams.min (" + ngramMin + "), was " + ngramMax);
    }
    Student student = new Student(r.oneOf("student.kind", Set.of("static-embedding", "char-ngram-mlp")),
        r.oneOf("student.init", Set.of("teacher-context", "teacher-tokens", "random")),
        r.doubleBetween("student.context-prior", 0, 1e9), r.intAtLeast("student.width", 8),
        r.intAtLeast("student.min-token-count", 1), r.intBetween("student.max-tokens", 4, 512),
        r.intAtLeast("student.hidden", 0),
        new CharNgrams(ngramMin, ngramMax, r.intBetween("student.char-ngrams.buckets", 16, 1 << 24),
            r.intBetween("student.char-ngrams.max-chars", 8, 100_000)));
    TaskKinds kinds = TASK_KINDS.getOrDefault(task, new TaskKinds(Set.of(teacher.kind()), student.kind()));
    if (!kinds.teachers().contains(teacher.kind())) {
      r.problem("teacher.kind", "task " + task + " needs teacher.kind in " + new java.util.TreeSet<>(kinds.teachers())
          + ", was " + teacher.kind());
    }
    if (!student.kind().equals(kinds.student())) {
      r.problem("student.kind", "task " + task + " needs student.kind = " + kinds.student() + ", was " + student.kind());
    }
    if (teacher.remote() && student.initFromTeacher()) {
      r.problem("student.init", student.init() + " needs an in-process teacher whose hidden states and single-token "
          + "embeddings it can read; with teacher.kind = " + teacher.kind() + " use student.init = random");
    }
    if (task.equals("classify") && student.initFromTeacher()) {
      r.problem("student.init", student.init() + " needs an embedding teacher; task classify needs student.init = "
          + "random");
    }

    Loss loss = new Loss(r.doubleBetween("train.loss.cosine-weight", 0, Double.MAX_VALUE),
        r.doubleBetween("train.loss.mse-weight", 0, Double.MAX_VALUE),
        r.doubleBetween("train.loss.soft-label-weight", 0, 1), r.doubleBetween("train.loss.temperature", 0.05, 100));
    if (loss.cosineWeight() == 0 && loss.mseWeight() == 0) {
      r.problem("train.loss", "cosine-weight and mse-weight must not both be 0");
    }
    Train train = new Train(r.intAtLeast("train.epochs", 1), r.intAtLeast("train.batch-size", 1),
        r.intAtLeast("train.averaging-frequency", 1), r.intAtLeast("train.workers", 0),
        r.doublePositive("train.learning-rate"), r.oneOf("train.table-updates", Set.of("lazy", "dense")),
        r.longValue("train.seed"), r.doubleBetween("train.fraction", 0, 1),
        loss,
        r.bool("train.hard-label-ablation"));

    if (!(train.fraction() > 0)) {
      r.problem("train.fraction", "must be in (0, 1] (1 = the whole training split), was " + train.fraction());
    }

    Serve serve = new Serve(nonEmpty(r, "serve.host"), r.intBetween("serve.port", 0, 65535),
        r.string("serve.token-env"), r.intAtLeast("serve.max-concurrent", 1), r.intAtLeast("serve.max-queued", 1),
        r.intAtLeast("serve.max-body-bytes", 1024));
    int neighbours = r.intAtLeast("evaluate.neighbours", 1);
    Evaluate evaluate = new Evaluate(neighbours, r.intAtLeast("evaluate.pairwise-rows", neighbours + 1),
        r.intAtLeast("evaluate.throughput-rows", 1), r.intAtLeast("evaluate.student-batch-size", 1),
        r.intBetween("evaluate.calibration-bins", 2, 1000),
        new Gate(r.doubleBetween("evaluate.gate.min-mean-cosine", -1, 1),
            r.doubleBetween("evaluate.gate.min-neighbour-recall", 0, 1),
            r.doubleBetween("evaluate.gate.min-agreement", 0, 1)));

    if (!r.problems().isEmpty()) {
      throw new SettingsException(r.problems().stream().map(p -> ROOT + "." + p).toList());
    }
    return new Settings(run, task, spark, corpus, teacher, generate, student, train, serve, evaluate,
        sectionHashes(c));
  }

  /** Hash of the named config sections, e.g. "corpus" or "teacher": stages compare these to reuse work. */
  public String hashOf(String... sections) {
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

  private static Map<String, String> sectionHashes(Config c) {
    Map<String, String> hashes = new TreeMap<>();
    for (String section : c.root().keySet()) {
      Map<String, String> flat = new TreeMap<>();
      ConfigValue v = c.root().get(section);
      if (v instanceof com.typesafe.config.ConfigObject o) {
        o.toConfig().entrySet().forEach(e -> flat.put(e.getKey(), e.getValue().render()));
      } else {
        flat.put("", v.render());
      }
      hashes.put(section, Hashing.sha256Hex(flat.toString()));
    }
    return Map.copyOf(hashes);
  }

  private static String nonEmpty(ConfigReader r, String key) {
    String v = r.string(key);
    if (v.isBlank()) {
      r.problem(key, "must not be empty");
    }
    return v;
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
