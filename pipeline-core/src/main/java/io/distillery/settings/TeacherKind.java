package io.distillery.settings;

import java.util.Optional;

/** What answers as the teacher (teacher.kind): in-process models, or OpenAI-compatible APIs asked over HTTP. */
public enum TeacherKind implements Named {
  /** A sentence-embedding transformer run in-process with ONNX Runtime. */
  ONNX_EMBEDDING(Answer.EMBEDDING, null),
  /** Apache OpenNLP's language detector, in-process: a distribution over its languages. */
  OPENNLP_LANGDETECT(Answer.LABELS, null),
  /** A llama2.c checkpoint run in-process (teacher/Llama2Teacher): completions with per-token log-probabilities. */
  LLAMA2C(Answer.COMPLETION, null),
  /** POST {base-url}/embeddings. */
  OPENAI_EMBEDDINGS(Answer.EMBEDDING, "/embeddings"),
  /** POST {base-url}/chat/completions with logprobs: labels from the first answer token's alternatives. */
  OPENAI_CHAT(Answer.LABELS, "/chat/completions"),
  /** POST {base-url}/completions with logprobs (base models, servers without a chat template). */
  OPENAI_COMPLETIONS(Answer.LABELS, "/completions");

  /** What a teacher of this kind answers with. */
  public enum Answer { EMBEDDING, LABELS, COMPLETION }

  private final Answer answer;
  private final String path;

  TeacherKind(Answer answer, String path) {
    this.answer = answer;
    this.path = path;
  }

  public Answer answer() {
    return answer;
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
    return remote() && answer == Answer.LABELS;
  }

  @Override
  public String toString() {
    return configName();
  }
}
