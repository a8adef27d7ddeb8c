package io.distillery.dataset;

import static io.distillery.dataset.ColumnType.BINARY;
import static io.distillery.dataset.ColumnType.BOOLEAN;
import static io.distillery.dataset.ColumnType.DOUBLE;
import static io.distillery.dataset.ColumnType.FLOAT_ARRAY;
import static io.distillery.dataset.ColumnType.LONG;
import static io.distillery.dataset.ColumnType.STRING;
import static io.distillery.dataset.ColumnType.STRING_ARRAY;
import static io.distillery.dataset.ColumnType.TIMESTAMP;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Every dataset the pipeline writes, with its directory under {@code <root>/datasets/} and its schema.
 * All are Parquet, partitioned by {@link #RUN_ID}. This is the one place dataset names and columns live.
 */
public enum DatasetKind {
  /** ingest: sentences (or documents, corpus.unit) ready for the teacher. */
  PROMPTS("prompts", List.of(
      Column.required(Cols.ROW_ID, STRING, "content hash of the normalised text (stable id)"),
      Column.required(Cols.TEXT, STRING, "normalised sentence or document"),
      Column.required(Cols.GOLD_LABEL, STRING, "gold label from corpus.label-column ('' if none)"),
      Column.required(Cols.LANGUAGE, STRING, "ISO 639-3 language detected for its document ('' if not detected)"),
      Column.required(Cols.SOURCE_REF, STRING, "where it came from: corpus and document reference"),
      Column.required(Cols.SPLIT, STRING, "train, validation or test (hash of row_id)"))),

  /** ingest: sentences that could not become prompts, with the reason. */
  QUARANTINE("quarantine", List.of(
      Column.required(Cols.ROW_ID, STRING, "content hash of the text ('' for an empty document)"),
      Column.required(Cols.TEXT, STRING, "the offending text as read"),
      Column.required(Cols.SOURCE_REF, STRING, "corpus and document reference"),
      Column.required(Cols.STAGE, STRING, "stage that quarantined it"),
      Column.required(Cols.REASON, STRING, "empty, too_short, too_long, undecodable, control_characters"))),

  /** generate (task embed): the teacher's embedding of each prompt, with provenance. */
  TEACHER_EMBEDDINGS("teacher-embeddings", withProvenance(List.of(
      Column.required(Cols.ROW_ID, STRING, "prompt row id"),
      Column.required(Cols.TEXT, STRING, "prompt text"),
      Column.required(Cols.SPLIT, STRING, "train, validation or test"),
      Column.required(Cols.EMBEDDING, FLOAT_ARRAY, "teacher embedding, L2-normalised")))),

  /** generate (task embed): the teacher's embedding of each corpus token alone, for the student's start. */
  TEACHER_TOKEN_EMBEDDINGS("teacher-token-embeddings", withProvenance(List.of(
      Column.required(Cols.TOKEN_ID, LONG, "teacher tokenizer's token id"),
      Column.required(Cols.OCCURRENCES, LONG, "times the token occurs in the prompts"),
      Column.required(Cols.EMBEDDING, FLOAT_ARRAY, "teacher embedding of the token alone, L2-normalised")))),

  /**
   * generate (task embed, in-process teacher): the teacher's last hidden state at each token, averaged over the
   * token's occurrences in the training split's prompts (special tokens included), for the student's start. A
   * by-product of answering the prompts: no extra teacher pass, and nothing from the validation or test split.
   */
  TEACHER_TOKEN_CONTEXTS("teacher-token-contexts", withTeacher(List.of(
      Column.required(Cols.TOKEN_ID, LONG, "teacher tokenizer's token id (special tokens included)"),
      Column.required(Cols.OCCURRENCES, LONG, "times the token occurs in the training split's prompts as the teacher "
          + "read them"),
      Column.required(Cols.EMBEDDING, FLOAT_ARRAY, "mean of the teacher's last hidden state at those occurrences "
          + "(not normalised)")))),

  /**
   * generate (task classify): the teacher's label distribution of each prompt, its top-k labels only, with
   * provenance. The teacher's whole label vocabulary, in its order, is in the generate manifest.
   */
  TEACHER_LABELS("teacher-labels", withProvenance(List.of(
      Column.required(Cols.ROW_ID, STRING, "prompt row id"),
      Column.required(Cols.TEXT, STRING, "prompt text"),
      Column.required(Cols.SPLIT, STRING, "train, validation or test"),
      Column.required(Cols.GOLD_LABEL, STRING, "gold label from the corpus ('' if none)"),
      Column.required(Cols.TOP_LABELS, STRING_ARRAY, "the teacher's k most probable labels, most probable first"),
      Column.required(Cols.TOP_PROBABILITIES, FLOAT_ARRAY, "their probabilities (the rest of the mass is on other labels)")))),

  /**
   * generate (task language-model): one row per completion (a prompt's sample), its tokens and, per position, the
   * teacher's top-k alternatives ({@link PackedTopK}), with the sampling that produced it and provenance.
   */
  TEACHER_COMPLETIONS("teacher-completions", withProvenance(List.of(
      Column.required(Cols.ROW_ID, STRING, "the request's id: the prompt's row id, '#', the sample index"),
      Column.required(Cols.PROMPT_ID, STRING, "prompt row id"),
      Column.required(Cols.SAMPLE, LONG, "which of the prompt's samples (0 to generate.samples - 1)"),
      Column.required(Cols.TEXT, STRING, "prompt text"),
      Column.required(Cols.SPLIT, STRING, "train, validation or test (the prompt's)"),
      Column.required(Cols.COMPLETION, STRING, "the completion's text"),
      Column.required(Cols.TOKEN_IDS, BINARY, "the completion's tokens in the teacher's vocabulary (PackedTokens: "
          + "uint16 little-endian)"),
      Column.required(Cols.TOKEN_LOGPROBS, BINARY, "each token's log-probability under the teacher (PackedTokens: "
          + "uint16 steps of 1/1024 nat below 0)"),
      Column.required(Cols.TOP_K, BINARY, "per generated position, the teacher's k most probable tokens and their "
          + "log-probabilities (PackedTopK: k uint16 ids, then k uint16 steps of 1/1024 nat below 0)"),
      Column.required(Cols.TOP_K_SIZE, LONG, "k, the alternatives per position"),
      Column.required(Cols.FINISH_REASON, STRING, "stop (the model or a stop text ended it) or length"),
      Column.required(Cols.TEMPERATURE, DOUBLE, "sampling temperature (0 = greedy)"),
      Column.required(Cols.TOP_P, DOUBLE, "nucleus sampling's mass"),
      Column.required(Cols.MAX_TOKENS, LONG, "the completion's token limit"),
      Column.required(Cols.SEED, LONG, "the sampler's seed for this sample")))),

  /** generate: answers the task's quality gate kept out of its dataset, with the reason. */
  TEACHER_QUARANTINE("teacher-quarantine", withProvenance(List.of(
      Column.required(Cols.ROW_ID, STRING, "the request's row id"),
      Column.required(Cols.TEXT, STRING, "prompt text"),
      Column.required(Cols.ANSWER, STRING, "the teacher's answer as text"),
      Column.required(Cols.REASON, STRING, "task language-model: empty, undecodable, too_short, truncated, "
          + "duplicate_completion (generate.quality)")))),

  /** generate: prompts the teacher could not answer, and the teacher (and terms) they were sent to. */
  TEACHER_FAILURES("teacher-failures", withTeacherIdentity(List.of(
      Column.required(Cols.ROW_ID, STRING, "prompt row id"),
      Column.required(Cols.TEXT, STRING, "prompt text"),
      Column.required(Cols.ERROR_CLASS, STRING, "what failed: an exception class; for remote teachers http_STATUS, "
          + "timeout, connection, malformed_response, unreadable_answer, or budget_exhausted (not sent: the run's "
          + "budget was spent)"),
      Column.required(Cols.MESSAGE, STRING, "error message"),
      Column.required(Cols.ATTEMPTS, LONG, "attempts made"),
      new Column(Cols.HTTP_STATUS, LONG, true, "HTTP status of the last attempt (remote teachers; null without one)"),
      Column.required(Cols.CREATED_AT, TIMESTAMP, "when it failed"))));

  /** Partition column of every dataset. */
  public static final String RUN_ID = "run_id";

  private final String directory;
  private final List<Column> columns;
  private final Map<String, Column> byName = new LinkedHashMap<>();

  DatasetKind(String directory, List<Column> columns) {
    this.directory = directory;
    this.columns = List.copyOf(columns);
    columns.forEach(c -> byName.put(c.name(), c));
  }

  public String directory() {
    return directory;
  }

  /** Its table's name in the tables' namespace: the directory name with '_' for '-'. */
  public String tableName() {
    return directory.replace('-', '_');
  }

  /** Columns in file order, without the {@link #RUN_ID} partition column. */
  public List<Column> columns() {
    return columns;
  }

  public List<String> columnNames() {
    return List.copyOf(byName.keySet());
  }

  /** The column of that name, if this dataset has one. */
  public Optional<Column> column(String name) {
    return Optional.ofNullable(byName.get(name));
  }

  /** The payload, then the columns naming the teacher and the terms its output comes under. */
  private static List<Column> withTeacherIdentity(List<Column> payload) {
    List<Column> all = new ArrayList<>(payload);
    all.add(Column.required(Cols.TEACHER_NAME, STRING, "teacher model name"));
    all.add(Column.required(Cols.TEACHER_VERSION, STRING, "teacher model version"));
    all.add(Column.required(Cols.TEACHER_ARTIFACT, STRING, "where the teacher model file came from"));
    all.add(Column.required(Cols.TEACHER_SHA256, STRING, "sha256 of the teacher model file"));
    all.add(Column.required(Cols.TERMS, STRING, "terms the output comes under"));
    return all;
  }

  /** Columns naming the teacher an aggregate of its outputs came from, and when it was made. */
  private static List<Column> withTeacher(List<Column> payload) {
    List<Column> all = withTeacherIdentity(payload);
    all.add(Column.required(Cols.CREATED_AT, TIMESTAMP, "when it was aggregated"));
    return all;
  }

  private static List<Column> withProvenance(List<Column> payload) {
    List<Column> all = withTeacherIdentity(payload);
    all.add(Column.required(Cols.REQUEST_HASH, STRING, "hash of (teacher identity, input, parameters)"));
    all.add(Column.required(Cols.LATENCY_MS, DOUBLE, "teacher latency for this row, milliseconds"));
    all.add(Column.required(Cols.CREATED_AT, TIMESTAMP, "when the teacher answered"));
    all.add(Column.required(Cols.SERVED_MODEL, STRING,
        "the model that answered, as the server reported it (response 'model'); in-process teachers: their name"));
    all.add(new Column(Cols.SYSTEM_FINGERPRINT, STRING, true, "the server's system_fingerprint, when it sent one"));
    all.add(new Column(Cols.PROMPT_TOKENS, LONG, true, "input tokens the server counted (remote teachers)"));
    all.add(new Column(Cols.COMPLETION_TOKENS, LONG, true, "output tokens the server counted (remote teachers)"));
    all.add(Column.required(Cols.FROM_CACHE, BOOLEAN,
        "true: the answer was read from the response cache (asked before, e.g. by an earlier run), not sent again"));
    return all;
  }

  /** Column names shared by several datasets. */
  public static final class Cols {
    public static final String ROW_ID = "row_id";
    public static final String TEXT = "text";
    public static final String LANGUAGE = "language";
    public static final String SOURCE_REF = "source_ref";
    public static final String SPLIT = "split";
    public static final String STAGE = "stage";
    public static final String REASON = "reason";
    public static final String ANSWER = "answer";
    public static final String EMBEDDING = "embedding";
    public static final String TOKEN_ID = "token_id";
    public static final String GOLD_LABEL = "gold_label";
    public static final String TOP_LABELS = "top_labels";
    public static final String TOP_PROBABILITIES = "top_probabilities";
    public static final String OCCURRENCES = "occurrences";
    public static final String ERROR_CLASS = "error_class";
    public static final String MESSAGE = "message";
    public static final String ATTEMPTS = "attempts";
    public static final String TEACHER_NAME = "teacher_name";
    public static final String TEACHER_VERSION = "teacher_version";
    public static final String TEACHER_ARTIFACT = "teacher_artifact";
    public static final String TEACHER_SHA256 = "teacher_model_sha256";
    public static final String TERMS = "teacher_terms";
    public static final String REQUEST_HASH = "request_hash";
    public static final String LATENCY_MS = "latency_ms";
    public static final String CREATED_AT = "created_at";
    public static final String SERVED_MODEL = "served_model";
    public static final String SYSTEM_FINGERPRINT = "system_fingerprint";
    public static final String PROMPT_TOKENS = "prompt_tokens";
    public static final String COMPLETION_TOKENS = "completion_tokens";
    public static final String FROM_CACHE = "from_cache";
    public static final String HTTP_STATUS = "http_status";
    public static final String PROMPT_ID = "prompt_id";
    public static final String SAMPLE = "sample";
    public static final String COMPLETION = "completion";
    public static final String TOKEN_IDS = "token_ids";
    public static final String TOKEN_LOGPROBS = "token_logprobs";
    public static final String TOP_K = "top_k";
    public static final String TOP_K_SIZE = "top_k_size";
    public static final String FINISH_REASON = "finish_reason";
    public static final String TEMPERATURE = "temperature";
    public static final String TOP_P = "top_p";
    public static final String MAX_TOKENS = "max_tokens";
    public static final String SEED = "seed";

    private Cols() {}
  }
}
