package io.distillery.settings;

import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/** What answers as the teacher (teacher.kind): in-process models, or OpenAI-compatible APIs asked over HTTP. */
public enum TeacherKind implements Named {
  /** A sentence-embedding transformer run in-process with ONNX Runtime. */
  ONNX_EMBEDDING(EnumSet.of(Answer.EMBEDDING), null),
  /** Apache OpenNLP's language detector, in-process: a distribution over its languages. */
  OPENNLP_LANGDETECT(EnumSet.of(Answer.LABELS), null),
  /** A llama2.c checkpoint run in-process (teacher/Llama2Teacher): completions with per-token log-probabilities. */
  LLAMA2C(EnumSet.of(Answer.COMPLETION), null),
  /** POST {base-url}/embeddings. */
  OPENAI_EMBEDDINGS(EnumSet.of(Answer.EMBEDDING), "/embeddings"),
  /**
   * POST {base-url}/chat/completions with logprobs: labels from the first answer token's alternatives, or (task
   * language-model) whole completions with every token's alternatives.
   */
  OPENAI_CHAT(EnumSet.of(Answer.LABELS, Answer.COMPLETION), "/chat/completions"),
  /** POST {base-url}/completions with logprobs (base models, servers without a chat template): the same. */
  OPENAI_COMPLETIONS(EnumSet.of(Answer.LABELS, Answer.COMPLETION), "/completions");

  /** What a teacher of this kind answers with. */
  public enum Answer { EMBEDDING, LABELS, COMPLETION }

  private final Set<Answer> answers;
  private final String path;

  TeacherKind(Set<Answer> answers, String path) {
    this.answers = Set.copyOf(answers);
    this.path = path;
  }

  /** What a teacher of this kind can answer with; the task chooses which ({@link TaskKind#answer}). */
  public Set<Answer> answers() {
    return answers;
  }

  /** Whether it is a remote API, asked over HTTP (else a model run inside the executors). */
  public boolean remote() {
    return path != null;
  }

  /** The endpoint path a remote kind posts to, below teacher.http.base-url; empty for in-process kinds. */
  public Optional<String> path() {
    return Optional.ofNullable(path);
  }

  /** Whether it answers with generated tokens, which the server bills as output tokens (chat, completions). */
  public boolean completes() {
    return remote() && answers.contains(Answer.COMPLETION);
  }

  @Override
  public String toString() {
    return configName();
  }
}
