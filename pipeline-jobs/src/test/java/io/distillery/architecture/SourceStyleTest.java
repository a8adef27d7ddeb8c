package io.distillery.architecture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * What every source file of both modules keeps to: imports used and sorted (static ones first), types named by their imports
 * rather than fully qualified inline (unless the simple name is taken by another import), and no printing to the
 * console from library code (SLF4J instead; the CLI prints through picocli's writers).
 */
class SourceStyleTest {
  private static final Path REPO = Path.of(System.getProperty("test.repo.root", ".."));
  private static final Pattern FQN = Pattern.compile(
      "(?<![\\w.@\"])((?:java|javax|org|com|io|ai|scala|dev|opennlp)\\.(?:[a-z_][a-z0-9_]*\\.)+)([A-Z]\\w*)");
  private static final Pattern IMPORT = Pattern.compile("import (?:static )?[\\w.]+\\.(\\w+);");
  private static final Pattern STRING = Pattern.compile("\"(?:\\\\.|[^\"\\\\])*\"");

  @Test
  void importsAreSortedStaticFirst() {
    List<String> problems = new ArrayList<>();
    for (Path file : sources("src/main", "src/test")) {
      List<String> imports = lines(file).stream().filter(l -> l.startsWith("import ")).toList();
      List<String> statics = imports.stream().filter(l -> l.startsWith("import static ")).toList();
      List<String> plain = imports.stream().filter(l -> !l.startsWith("import static ")).toList();
      List<String> expected = new ArrayList<>(statics.stream().sorted(SourceStyleTest::byName).toList());
      expected.addAll(plain.stream().sorted(SourceStyleTest::byName).toList());
      if (!expected.equals(imports)) {
        problems.add(REPO.relativize(file) + ": imports out of order");
      }
    }
    assertEquals(List.of(), problems);
  }

  @Test
  void typesAreImportedNotQualifiedInline() {
    List<String> problems = new ArrayList<>();
    for (Path file : sources("src/main", "src/test")) {
      List<String> lines = lines(file);
      Map<String, String> imported = new HashMap<>();
      lines.stream().filter(l -> l.startsWith("import ") && !l.startsWith("import static ")).forEach(l -> {
        String name = l.substring(7, l.length() - 1);
        imported.put(name.substring(name.lastIndexOf('.') + 1), name);
      });
      boolean comment = false;
      for (int i = 0; i < lines.size(); i++) {
        String line = lines.get(i).strip();
        if (comment || line.startsWith("/*")) {
          comment = !line.contains("*/");
          continue;
        }
        if (line.startsWith("*") || line.startsWith("//") || line.startsWith("import ")
            || line.startsWith("package ")) {
          continue;
        }
        String code = STRING.matcher(line).replaceAll("\"\"");
        code = code.contains("//") ? code.substring(0, code.indexOf("//")) : code;
        Matcher m = FQN.matcher(code);
        while (m.find()) {
          String full = m.group(1) + m.group(2);
          String other = imported.get(m.group(2));
          if (other == null || other.equals(full)) { // a clash with another import is what FQNs are for
            problems.add(REPO.relativize(file) + ":" + (i + 1) + ": " + full + " (import it)");
          }
        }
      }
    }
    assertEquals(List.of(), problems);
  }

  @Test
  void everyImportIsUsed() {
    List<String> problems = new ArrayList<>();
    for (Path file : sources("src/main", "src/test")) {
      List<String> lines = lines(file);
      String body = String.join("\n", lines.stream().filter(l -> !l.startsWith("import ")).toList());
      for (String l : lines) {
        Matcher m = IMPORT.matcher(l);
        if (m.matches() && !Pattern.compile("\\b" + Pattern.quote(m.group(1)) + "\\b").matcher(body).find()) {
          problems.add(REPO.relativize(file) + ": " + l);
        }
      }
    }
    assertEquals(List.of(), problems);
  }

  @Test
  void libraryCodeLogsInsteadOfPrinting() {
    List<String> problems = new ArrayList<>();
    for (Path file : sources("src/main")) {
      List<String> lines = lines(file);
      for (int i = 0; i < lines.size(); i++) {
        String l = lines.get(i);
        if (l.contains("System.out") || l.contains("System.err") || l.contains("printStackTrace")) {
          problems.add(REPO.relativize(file) + ":" + (i + 1) + ": " + l.strip());
        }
      }
    }
    assertEquals(List.of(), problems);
  }

  private static int byName(String a, String b) {
    return a.replace(";", "").compareTo(b.replace(";", ""));
  }

  private static List<Path> sources(String... roots) {
    List<Path> files = new ArrayList<>();
    for (String module : List.of("pipeline-core", "pipeline-jobs")) {
      for (String root : roots) {
        Path dir = REPO.resolve(module).resolve(root);
        if (Files.isDirectory(dir)) {
          try (Stream<Path> walk = Files.walk(dir)) {
            walk.filter(p -> p.toString().endsWith(".java")).forEach(files::add);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      }
    }
    assertTrue(files.size() > 100, "found the sources under " + REPO.toAbsolutePath());
    return files;
  }

  private static List<String> lines(Path file) {
    try {
      return Files.readAllLines(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
