package io.distillery.jobs;

import io.distillery.TestSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.TreeSet;

/** Other JVMs started from the test classpath, with the flags every Distillery JVM needs. */
public final class TestJvms {
  private TestJvms() {}

  /** The test classpath (surefire's, not its booter jar's). */
  static String classpath() {
    return System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
  }

  /** The JVM flags from conf/jvm.properties (every distillery.jvm.* line), the one place they are declared. */
  public static List<String> flags() {
    Path file = TestSettings.repoFile("conf/jvm.properties");
    Properties p = new Properties();
    try (var in = Files.newInputStream(file)) {
      p.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + file, e);
    }
    List<String> flags = new ArrayList<>();
    for (String name : new TreeSet<>(p.stringPropertyNames())) {
      if (name.startsWith("distillery.jvm.")) {
        flags.addAll(List.of(p.getProperty(name).trim().split("\\s+")));
      }
    }
    return flags;
  }

  /** {@code java -Xmx<heap> <flags> -cp <test classpath> <main> <args>}. */
  static List<String> command(String heap, String mainClass, List<String> args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx" + heap);
    command.addAll(flags());
    command.add("-cp");
    command.add(classpath());
    command.add(mainClass);
    command.addAll(args);
    return command;
  }
}
