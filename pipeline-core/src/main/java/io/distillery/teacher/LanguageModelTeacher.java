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
}
