package io.distillery.settings;

/**
 * A kind of model a teacher's terms may allow its outputs to train (teacher.terms.students): what a run's task
 * builds ({@link TaskKind#studentUse}).
 */
public enum StudentUse implements Named {
  EMBEDDING_MODEL,
  CLASSIFIER,
  LANGUAGE_MODEL;

  @Override
  public String toString() {
    return configName();
  }
}
