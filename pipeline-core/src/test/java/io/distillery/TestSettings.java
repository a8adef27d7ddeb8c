package io.distillery;

import io.distillery.settings.Settings;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/** Settings for tests: reference.conf plus the given overrides. */
public final class TestSettings {
  private TestSettings() {}

  public static Settings withOverrides(Map<String, String> overrides) {
    return Settings.load(Optional.empty(), overrides);
  }

  /** The shipped classify example (conf/examples/langid.conf) plus the given overrides. */
  public static Settings langid(Map<String, String> overrides) {
    return Settings.load(Optional.of(repoFile("conf/examples/langid.conf")), overrides);
  }

  /** The shipped language-model example (conf/examples/stories.conf) plus the given overrides. */
  public static Settings stories(Map<String, String> overrides) {
    return Settings.load(Optional.of(repoFile("conf/examples/stories.conf")), overrides);
  }

  /** A file of the repository (surefire sets test.repo.root). */
  public static Path repoFile(String relative) {
    return Path.of(System.getProperty("test.repo.root", "..")).resolve(relative);
  }

  public static Settings defaults() {
    return withOverrides(Map.of());
  }
}
