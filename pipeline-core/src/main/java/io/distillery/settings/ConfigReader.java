package io.distillery.settings;

import com.typesafe.config.Config;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads declared {@link Key}s from the {@value Settings#ROOT} section and collects every problem instead of stopping
 * at the first, so a user fixes a whole config in one go.
 */
final class ConfigReader {
  private final Config config;
  private final List<String> problems = new ArrayList<>();

  ConfigReader(Config config) {
    this.config = config;
  }

  <T> T get(Key<T> key) {
    Key.Read<T> read = key.reader().read(config, key.path());
    read.problem().ifPresent(p -> problem(key, p));
    return read.value();
  }

  void problem(Key<?> key, String message) {
    problems.add(key.full() + ": " + message);
  }

  /** Throws a {@link SettingsException} naming every problem found so far, if there is any. */
  void throwIfProblems() {
    if (!problems.isEmpty()) {
      throw new SettingsException(problems);
    }
  }
}
