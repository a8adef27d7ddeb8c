package io.distillery.settings;

/** How the student's token vectors start (student.init). */
public enum StudentInit implements Named {
  /** The teacher's mean hidden state at each token over the training split. */
  TEACHER_CONTEXT,
  /** The teacher's embedding of each token alone, as in Model2Vec. */
  TEACHER_TOKENS,
  /** Xavier-normal. */
  RANDOM;

  @Override
  public String toString() {
    return configName();
  }
}
