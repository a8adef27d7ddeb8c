package io.distillery.settings;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A configuration key under {@value Settings#ROOT}: its path, its type and its bounds, declared once (beside the
 * settings section that holds it). Its default and documentation live in reference.conf; readers and error messages
 * take its name from here.
 *
 * @param path the key below {@value Settings#ROOT}, e.g. {@code "spark.partitions"}
 * @param bounds the allowed values in words, for messages (e.g. "an int >= 1"); "" when any value of the type is
 *     allowed
 */
public record Key<T>(String path, String bounds, Reader<T> reader) {

  /** Reads a key's value from a config, returning a problem instead of throwing. */
  @FunctionalInterface
  public interface Reader<T> {
    Read<T> read(Config config, String path);
  }

  /** A value read, or the problem that stopped it (then {@code value} is a fallback to keep reading). */
  public record Read<T>(T value, Optional<String> problem) {
    static <T> Read<T> ok(T value) {
      return new Read<>(value, Optional.empty());
    }

    static <T> Read<T> bad(T fallback, String problem) {
      return new Read<>(fallback, Optional.of(problem));
    }
  }

  /** The key's full name, as users write it: {@code distillery.PATH}. */
  public String full() {
    return Settings.ROOT + "." + path;
  }

  @Override
  public String toString() {
    return full();
  }

  /** {@code path() + " = " + value}, for messages. */
  public String is(Object value) {
    return path + " = " + value;
  }

  public static Key<String> string(String path) {
    return new Key<>(path, "", (c, p) -> typed(c, p, "", Config::getString));
  }

  public static Key<String> nonEmpty(String path) {
    return new Key<>(path, "a non-empty string", (c, p) -> check(typed(c, p, "", Config::getString),
        v -> v.isBlank() ? "must not be empty" : null));
  }

  public static Key<String> matching(String path, Pattern pattern, String description) {
    return new Key<>(path, description, (c, p) -> check(typed(c, p, "", Config::getString),
        v -> pattern.matcher(v).matches() ? null : "must be " + description + ", was '" + v + "'"));
  }

  /** One of an enum's config names ({@link Named#configName}), case-insensitive. */
  public static <E extends Enum<E> & Named> Key<E> oneOf(String path, Class<E> type) {
    E[] values = type.getEnumConstants();
    String allowed = allowed(values);
    return new Key<>(path, "one of " + allowed, (c, p) -> {
      Read<String> s = typed(c, p, "", Config::getString);
      if (s.problem().isPresent()) {
        return Read.bad(values[0], s.problem().get());
      }
      return named(values, s.value()).map(Read::ok)
          .orElse(Read.bad(values[0], "must be one of " + allowed + ", was '" + s.value() + "'"));
    });
  }

  /** A list of distinct config names of an enum ({@link Named#configName}), case-insensitive; may be empty. */
  public static <E extends Enum<E> & Named> Key<List<E>> listOf(String path, Class<E> type) {
    E[] values = type.getEnumConstants();
    String allowed = allowed(values);
    return new Key<>(path, "a list of " + allowed, (c, p) -> {
      Read<List<String>> s = typed(c, p, List.of(), (config, key) -> List.copyOf(config.getStringList(key)));
      if (s.problem().isPresent()) {
        return Read.bad(List.of(), s.problem().get());
      }
      List<E> out = new ArrayList<>();
      for (String name : s.value()) {
        Optional<E> e = named(values, name);
        if (e.isEmpty()) {
          return Read.bad(List.of(), "each must be one of " + allowed + ", was '" + name + "'");
        }
        if (!out.contains(e.get())) {
          out.add(e.get());
        }
      }
      return Read.ok(List.copyOf(out));
    });
  }

  /** An enum's config names, sorted, as messages list them. */
  private static String allowed(Named[] values) {
    return Arrays.stream(values).map(Named::configName).sorted().collect(Collectors.joining(", ", "[", "]"));
  }

  /** The value whose config name this is, case-insensitive. */
  private static <E extends Named> Optional<E> named(E[] values, String name) {
    String v = name.toLowerCase(Locale.ROOT);
    return Arrays.stream(values).filter(e -> e.configName().equals(v)).findFirst();
  }

  public static Key<List<String>> strings(String path) {
    return new Key<>(path, "a list of strings", (c, p) -> typed(c, p, List.of(),
        (config, key) -> List.copyOf(config.getStringList(key))));
  }

  public static Key<Boolean> bool(String path) {
    return new Key<>(path, "true or false", (c, p) -> typed(c, p, false, Config::getBoolean));
  }

  public static Key<Integer> intAtLeast(String path, int min) {
    return new Key<>(path, "an int >= " + min, (c, p) -> check(typed(c, p, min, Config::getInt),
        v -> v >= min ? null : "must be >= " + min + ", was " + v));
  }

  public static Key<Integer> intBetween(String path, int min, int max) {
    return new Key<>(path, "an int in [" + min + ", " + max + "]", (c, p) -> check(typed(c, p, min, Config::getInt),
        v -> v >= min && v <= max ? null : "must be in [" + min + ", " + max + "], was " + v));
  }

  public static Key<Long> anyLong(String path) {
    return new Key<>(path, "a long", (c, p) -> typed(c, p, 0L, Config::getLong));
  }

  public static Key<Long> longAtLeast(String path, long min) {
    return new Key<>(path, "a long >= " + min, (c, p) -> check(typed(c, p, min, Config::getLong),
        v -> v >= min ? null : "must be >= " + min + ", was " + v));
  }

  public static Key<Double> doubleBetween(String path, double min, double max) {
    return new Key<>(path, "a double in [" + min + ", " + max + "]", (c, p) -> check(
        typed(c, p, min, Config::getDouble),
        v -> v >= min && v <= max ? null : "must be in [" + min + ", " + max + "], was " + v));
  }

  /** A double >= 0 with no upper bound. */
  public static Key<Double> nonNegative(String path) {
    return new Key<>(path, "a double >= 0", (c, p) -> check(typed(c, p, 0.0, Config::getDouble),
        v -> v >= 0 && v <= Double.MAX_VALUE ? null : "must be in [0.0, " + Double.MAX_VALUE + "], was " + v));
  }

  public static Key<Double> positive(String path) {
    return new Key<>(path, "a double > 0", (c, p) -> check(typed(c, p, 1.0, Config::getDouble),
        v -> v > 0 && v <= Double.MAX_VALUE ? null : "must be > 0, was " + v));
  }

  /** A positive duration, e.g. "30s" or "500ms". */
  public static Key<Duration> duration(String path) {
    return new Key<>(path, "a duration > 0", (c, p) -> {
      Read<Duration> d = typed(c, p, Duration.ofSeconds(1), Config::getDuration);
      if (d.problem().isEmpty() && (d.value().isNegative() || d.value().isZero())) {
        return Read.bad(Duration.ofSeconds(1), "must be > 0, was " + c.getValue(p).render());
      }
      return d;
    });
  }

  private static <T> Read<T> typed(Config config, String path, T fallback, ConfigGetter<T> get) {
    try {
      return Read.ok(get.get(config, path));
    } catch (ConfigException e) {
      return Read.bad(fallback, e.getMessage());
    }
  }

  private static <T> Read<T> check(Read<T> read, Function<T, String> problem) {
    if (read.problem().isPresent()) {
      return read;
    }
    String p = problem.apply(read.value());
    return p == null ? read : Read.bad(read.value(), p);
  }

  @FunctionalInterface
  private interface ConfigGetter<T> {
    T get(Config config, String path);
  }
}
