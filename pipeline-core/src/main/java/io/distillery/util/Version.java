package io.distillery.util;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * The Distillery build that is running, recorded in manifests, model cards and transparency reports: the Maven
 * version and the git commit it was built from (embedded at build time; "unknown" outside a git checkout).
 *
 * @param version the Maven version, e.g. 0.1.0-SNAPSHOT
 * @param commit the full commit id, or "unknown"
 * @param commitTime when that commit was made (ISO-8601), or ""
 * @param dirty whether the working tree had changes the commit does not hold
 */
public record Version(String version, String commit, String commitTime, boolean dirty) {
  public static final String UNKNOWN = "unknown";
  private static final Version CURRENT = load();

  /** This build. */
  public static Version build() {
    return CURRENT;
  }

  /**
   * This build in one word, as manifests record it: {@code VERSION+gCOMMIT12} (semver build metadata), with
   * {@code .dirty} when built from a changed tree.
   */
  public static String current() {
    return CURRENT.describe();
  }

  public String describe() {
    if (commit.equals(UNKNOWN)) {
      return version;
    }
    return version + "+g" + commit.substring(0, Math.min(12, commit.length())) + (dirty ? ".dirty" : "");
  }

  private static Version load() {
    try (InputStream in = Version.class.getResourceAsStream("/distillery-version.properties")) {
      if (in == null) {
        return new Version(UNKNOWN, UNKNOWN, "", false);
      }
      Properties p = new Properties();
      p.load(in);
      return new Version(resolved(p, "version", UNKNOWN), resolved(p, "commit", UNKNOWN),
          resolved(p, "commit-time", ""), Boolean.parseBoolean(resolved(p, "dirty", "false")));
    } catch (IOException e) {
      return new Version(UNKNOWN, UNKNOWN, "", false);
    }
  }

  /** A property, or {@code absent} where the build left it unset (an unfiltered {@code ${...}}). */
  private static String resolved(Properties p, String key, String absent) {
    String v = p.getProperty(key, "");
    return v.isBlank() || v.startsWith("${") ? absent : v;
  }
}
