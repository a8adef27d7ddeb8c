package io.distillery.settings;

import java.util.List;

/** A configuration key is unknown, missing or out of range. The message names every offending key. */
public final class SettingsException extends IllegalArgumentException {
  private final List<String> problems;

  public SettingsException(List<String> problems) {
    super("Invalid Distillery configuration:\n  - " + String.join("\n  - ", problems)
        + "\nEvery key and its allowed values are documented in pipeline-core/src/main/resources/reference.conf.");
    this.problems = List.copyOf(problems);
  }

  public List<String> problems() {
    return problems;
  }
}
