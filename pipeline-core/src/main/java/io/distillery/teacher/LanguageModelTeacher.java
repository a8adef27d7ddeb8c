package io.distillery.teacher;

import io.distillery.settings.Settings.Sampling;

/** A teacher that completes prompts, token by token (task language-model). */
public interface LanguageModelTeacher extends Teacher {
  /** Tokens in its vocabulary. */
  int vocabSize();

  /** A hash of its vocabulary: a student must read the same tokens. */
  String tokenizerFingerprint();

  /** Completes {@code prompt} as {@code sampling} says, with the top {@code k} alternatives at every position. */
  Completion complete(String prompt, Sampling sampling, int k);

  /** The prompt's tokens as the model reads them, its beginning-of-sequence token first. */
  int[] promptTokens(String prompt);

  /** The UTF-8 bytes {@code token} adds to the text after {@code previous} (e.g. no leading space after BOS). */
  byte[] tokenBytes(int previous, int token);
}
