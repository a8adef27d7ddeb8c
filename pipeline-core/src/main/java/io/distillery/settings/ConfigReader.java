package io.distillery.settings;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads typed values under one prefix and collects every problem instead of stopping at the first,
 * so a user fixes a whole config in one go.
 */
final class ConfigReader {
  private final Config config;
  private final List<String> problems = new ArrayList<>();

  ConfigReader(Config config) {
    this.config = config;
  }

  List<String> problems() {
    return problems;
  }

  void problem(String key, String message) {
    problems.add(key + ": " + message);
  }

  String string(String key) {
    try {
      return config.getString(key);
    } catch (ConfigException e) {
      problem(key, e.getMessage());
      return "";
    }
  }

  String matching(String key, Pattern pattern, String description) {
    String v = string(key);
    if (!pattern.matcher(v).matches()) {
      problem(key, "must be " + description + ", was '" + v + "'");
    }
    return v;
  }

  String oneOf(String key, Set<String> allowed) {
    String v = string(key).toLowerCase(Locale.ROOT);
    if (!allowed.contains(v)) {
      problem(key, "must be one of " + allowed + ", was '" + v + "'");
    }
    return v;
  }

  List<String> strings(String key) {
    try {
      return List.copyOf(config.getStringList(key));
    } catch (ConfigException e) {
      problem(key, e.getMessage());
      return List.of();
    }
  }

  int intAtLeast(String key, int min) {
    return intBetween(key, min, Integer.MAX_VALUE);
  }

  int intBetween(String key, int min, int max) {
    try {
      int v = config.getInt(key);
      if (v < min || v > max) {
        problem(key, max == Integer.MAX_VALUE ? "must be >= " + min + ", was " + v
            : "must be in [" + min + ", " + max + "], was " + v);
      }
      return v;
    } catch (ConfigException e) {
      problem(key, e.getMessage());
      return min;
    }
  }

  boolean bool(String key) {
    try {
      return config.getBoolean(key);
    } catch (ConfigException e) {
      problem(key, e.getMessage());
      return false;
    }
  }

  long longValue(String key) {
    try {
      return config.getLong(key);
    } catch (ConfigException e) {
      problem(key, e.getMessage());
      return 0L;
    }
  }

  double doubleBetween(String key, double min, double max) {
    try {
      double v = config.getDouble(key);
      if (!(v >= min && v <= max)) {
        problem(key, "must be in [" + min + ", " + max + "], was " + v);
      }
      return v;
    } catch (ConfigException e) {
      problem(key, e.getMessage());
      return min;
    }
  }

  double doublePositive(String key) {
    double v = doubleBetween(key, 0, Double.MAX_VALUE);
    if (v == 0) {
      problem(key, "must be > 0");
    }
    return v;
  }

  /** A positive duration, e.g. "30s" or "500ms". */
  java.time.Duration duration(String key) {
    try {
      java.time.Duration v = config.getDuration(key);
      if (v.isNegative() || v.isZero()) {
        problem(key, "must be > 0, was " + config.getValue(key).render());
        return java.time.Duration.ofSeconds(1);
      }
      return v;
    } catch (ConfigException e) {
      problem(key, e.getMessage());
      return java.time.Duration.ofSeconds(1);
    }
  }
}
