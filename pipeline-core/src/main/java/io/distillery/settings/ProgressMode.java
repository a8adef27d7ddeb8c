package io.distillery.settings;

/**
 * Where progress lines of long stages go (progress.mode): auto (a line rewritten in place on an interactive
 * terminal, else the log), terminal, log (one line every progress.interval: YARN, Airflow), or off.
 */
public enum ProgressMode implements Named {
  AUTO,
  TERMINAL,
  LOG,
  OFF;

  @Override
  public String toString() {
    return configName();
  }
}
