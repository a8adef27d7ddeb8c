package io.distillery.settings;

/** Whether a teacher's terms allow a use (teacher.terms.distillation). */
public enum Permission implements Named {
  ALLOWED,
  FORBIDDEN;

  @Override
  public String toString() {
    return configName();
  }
}
