package io.distillery.teacher;

import java.util.Optional;

/** What a teacher answered for one input, typed by kind; the task decides which dataset columns it fills. */
public sealed interface TeacherAnswer {
  /** The tokens the answer took, when the teacher counts them (in-process language models do). */
  default Optional<Usage> usage() {
    return Optional.empty();
  }

  /** Tokens of the prompt (with its beginning-of-sequence token) and of the completion. */
  record Usage(long promptTokens, long completionTokens) {}

  /** An embedding, L2-normalised. */
  record Embedding(float[] vector) implements TeacherAnswer {}

  /** A label distribution's most probable labels. */
  record Labels(LabelTeacher.TopK top) implements TeacherAnswer {}

  /** A language model's completion, with its top-k log-probabilities at every position. */
  record Completed(Completion completion) implements TeacherAnswer {
    @Override
    public Optional<Usage> usage() {
      return Optional.of(new Usage(completion.promptTokens(), completion.tokens().length));
    }
  }
}
