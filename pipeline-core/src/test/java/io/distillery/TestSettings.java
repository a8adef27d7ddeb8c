package io.distillery;

import io.distillery.settings.Settings;
import java.util.Map;
import java.util.Optional;

/** Settings for tests: reference.conf plus the given overrides. */
public final class TestSettings {
  private TestSettings() {}

  public static Settings withOverrides(Map<String, String> overrides) {
    return Settings.load(Optional.empty(), overrides);
  }

  public static Settings defaults() {
    return withOverrides(Map.of());
  }
}
