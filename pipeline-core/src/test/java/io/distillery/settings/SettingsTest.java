package io.distillery.settings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import io.distillery.TestSettings;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SettingsTest {

  @Test
  void defaultsComeFromReferenceConf() {
    Settings s = TestSettings.defaults();
    assertEquals(TaskKind.EMBED, s.task());
    assertEquals(CorpusSource.EUROPARL, s.corpus().source());
    assertEquals(List.of("eng"), s.corpus().languages());
    assertEquals(1, s.teacher().intraOpThreads());
    assertTrue(s.teacher().terms().distillationAllowed());
  }

  @Test
  void unknownKeyIsRejectedByName() {
    SettingsException e = assertThrows(SettingsException.class,
        () -> TestSettings.withOverrides(Map.of("distillery.train.epoch", "3")));
    assertTrue(e.getMessage().contains("distillery.train.epoch: unknown key"), e.getMessage());
  }

  @Test
  void everyBadValueIsReportedAtOnceWithItsKey() {
    SettingsException e = assertThrows(SettingsException.class, () -> TestSettings.withOverrides(Map.of(
        "distillery.train.epochs", "0",
        "distillery.teacher.terms.distillation", "maybe",
        "distillery.run.id", "no spaces please")));
    assertEquals(3, e.problems().size(), e.getMessage());
    assertTrue(e.getMessage().contains("distillery.train.epochs: must be >= 1, was 0"), e.getMessage());
    assertTrue(e.getMessage().contains("distillery.teacher.terms.distillation: must be one of"), e.getMessage());
    assertTrue(e.getMessage().contains("distillery.run.id"), e.getMessage());
  }

  @Test
  void wrongTypeNamesTheKey() {
    SettingsException e = assertThrows(SettingsException.class,
        () -> TestSettings.withOverrides(Map.of("distillery.student.width", "wide")));
    assertTrue(e.getMessage().contains("student.width"), e.getMessage());
  }

  @Test
  void theShippedLangidExampleIsAValidClassifyConfig() {
    Settings s = TestSettings.langid(Map.of());
    assertEquals(TaskKind.CLASSIFY, s.task());
    assertEquals(CorpusUnit.DOCUMENT, s.corpus().unit());
    assertEquals(List.of(), s.corpus().languages());
    assertEquals(TeacherKind.OPENNLP_LANGDETECT, s.teacher().kind());
    assertEquals(new Settings.CharNgrams(1, 4, 8192, s.student().charNgrams().maxChars()), s.student().charNgrams());
    assertTrue(s.train().hardLabelAblation());
    assertTrue(s.train().loss().softLabelWeight() > 0 && s.train().loss().temperature() > 1);
  }

  @Test
  void aTaskNeedsItsOwnTeacherAndStudentKinds() {
    SettingsException e = assertThrows(SettingsException.class,
        () -> TestSettings.withOverrides(Map.of("distillery.task", "classify")));
    assertTrue(e.getMessage().contains("teacher.kind: task classify needs teacher.kind in [openai-chat, "
        + "openai-completions, opennlp-langdetect], was onnx-embedding"), e.getMessage());
    assertTrue(e.getMessage().contains("student.kind: task classify needs student.kind = char-ngram-mlp"),
        e.getMessage());
    assertTrue(e.getMessage().contains("student.init"), e.getMessage());
    SettingsException gold = assertThrows(SettingsException.class,
        () -> TestSettings.langid(Map.of("distillery.corpus.label-column", "lang")));
    assertTrue(gold.getMessage().contains("corpus.label-column: needs corpus.source = jsonl or parquet"),
        gold.getMessage());
  }

  @Test
  void everyShippedExampleIsValidAndTheYarnOneRunsOnTheCluster() throws Exception {
    List<Path> examples;
    try (var files = Files.list(TestSettings.repoFile("conf/examples"))) {
      examples = files.filter(f -> f.toString().endsWith(".conf")).sorted().toList();
    }
    assertTrue(examples.size() >= 8, examples.toString());
    for (Path example : examples) {
      Settings.load(Optional.of(example), Map.of()); // throws, naming every bad key, if one is not
    }
    Settings yarn = Settings.load(Optional.of(TestSettings.repoFile("conf/examples/yarn-cluster.conf")), Map.of());
    assertEquals("", yarn.spark().master(), "spark-submit --master yarn decides");
    assertTrue(yarn.run().root().startsWith("hdfs://") && yarn.corpus().path().startsWith("hdfs://"));
    assertEquals(CorpusSource.PARQUET, yarn.corpus().source());
  }

  @Test
  void theRemoteLangidExampleAsksServeTeacherAndRemoteTeachersAreChecked() {
    Settings s = Settings.load(Optional.of(TestSettings.repoFile("conf/examples/langid-remote.conf")), Map.of());
    assertEquals(TaskKind.CLASSIFY, s.task());
    assertTrue(s.teacher().remote());
    assertEquals("http://127.0.0.1:8080/v1", s.teacher().http().baseUrl());
    assertEquals("apache-opennlp/langdetect-183", s.teacher().model());
    assertEquals(Duration.ofSeconds(30), s.teacher().http().requestTimeout());
    assertEquals(new Settings.Budget(0, 0), s.generate().budget());

    SettingsException e = assertThrows(SettingsException.class, () -> TestSettings.withOverrides(Map.of(
        "distillery.teacher.kind", "openai-embeddings", "distillery.teacher.http.base-url", "localhost:8080",
        "distillery.teacher.http.retry.initial-backoff", "2s", "distillery.teacher.http.retry.max-backoff", "1s",
        "distillery.teacher.http.request-timeout", "0s", "distillery.generate.budget.max-tokens", "-1")));
    for (String key : List.of("teacher.http.base-url", "student.init: teacher-context needs an in-process teacher",
        "teacher.http.retry.max-backoff", "teacher.http.request-timeout", "generate.budget.max-tokens")) {
      assertTrue(e.getMessage().contains(key), key + " in " + e.getMessage());
    }

    SettingsException twoKeys = assertThrows(SettingsException.class, () -> TestSettings.withOverrides(Map.of(
        "distillery.teacher.http.api-key-env", "TEACHER_KEY", "distillery.teacher.http.api-key-alias", "teacher.key")));
    assertTrue(twoKeys.getMessage().contains("teacher.http.api-key-alias: set either teacher.http.api-key-env or "
        + "teacher.http.api-key-alias, not both"), twoKeys.getMessage());
    SettingsException stray = assertThrows(SettingsException.class, () -> TestSettings.withOverrides(Map.of(
        "distillery.teacher.http.credential-providers", "jceks://file/tmp/keys.jceks")));
    assertTrue(stray.getMessage().contains("teacher.http.credential-providers: is only read for "
        + "teacher.http.api-key-alias"), stray.getMessage());
  }

  @Test
  void onlyTheOnnxTeacherRunsOnAGpu() {
    assertEquals(new Settings.Device(DeviceKind.CPU, false), TestSettings.defaults().teacher().device());
    assertEquals(DeviceKind.GPU, TestSettings.withOverrides(Map.of("distillery.teacher.device.kind", "gpu")).teacher()
        .device().kind());
    SettingsException e = assertThrows(SettingsException.class, () -> TestSettings.langid(Map.of(
        "distillery.teacher.device.kind", "gpu")));
    assertTrue(e.getMessage().contains("teacher.device.kind: only teacher.kind = onnx-embedding runs on a GPU"),
        e.getMessage());
  }

  @Test
  void termsListTheStudentsTheyAllowAndASignOffNamesWhoAndWhy() {
    Settings s = TestSettings.withOverrides(Map.of("distillery.teacher.terms.students", "[Classifier, classifier]",
        "distillery.purpose.sign-off", "Jane Roe: licence LA-2026-17"));
    assertEquals(List.of(StudentUse.CLASSIFIER), s.teacher().terms().students());
    assertEquals(new SignOff("Jane Roe", "licence LA-2026-17"), s.purpose().signOff());
    assertEquals(List.of(StudentUse.values()), TestSettings.defaults().teacher().terms().students());
    assertEquals(null, TestSettings.defaults().purpose().signOff());
    SettingsException e = assertThrows(SettingsException.class, () -> TestSettings.withOverrides(Map.of(
        "distillery.teacher.terms.students", "[chatbot]", "distillery.purpose.sign-off", "because I say so")));
    assertTrue(e.getMessage().contains("teacher.terms.students: each must be one of [classifier, embedding-model, "
        + "language-model], was 'chatbot'"), e.getMessage());
    assertTrue(e.getMessage().contains("purpose.sign-off: must be \"who: why\""), e.getMessage());
  }

  @Test
  void aTrainingFractionIsInZeroToOne() {
    assertEquals(1.0, TestSettings.defaults().train().fraction());
    assertEquals(0.05, TestSettings.withOverrides(Map.of("distillery.train.fraction", "0.05")).train().fraction());
    for (String bad : List.of("0", "1.5")) {
      SettingsException e = assertThrows(SettingsException.class,
          () -> TestSettings.withOverrides(Map.of("distillery.train.fraction", bad)));
      assertTrue(e.getMessage().contains("train.fraction"), e.getMessage());
    }
  }

  @Test
  void crossFieldRulesHold() {
    SettingsException e = assertThrows(SettingsException.class, () -> TestSettings.withOverrides(Map.of(
        "distillery.corpus.min-words", "10", "distillery.corpus.max-words", "5",
        "distillery.corpus.source", "jsonl")));
    assertTrue(e.getMessage().contains("corpus.max-words: must be >= corpus.min-words"), e.getMessage());
    assertTrue(e.getMessage().contains("corpus.path: is required when corpus.source = jsonl"), e.getMessage());
  }

  @Test
  void fileOverridesReferenceAndCommandLineOverridesFile(@TempDir Path dir) throws Exception {
    Path conf = dir.resolve("my.conf");
    Files.writeString(conf, "distillery { train.epochs = 7, student.width = 64 }");
    Settings s = Settings.load(Optional.of(conf), Map.of("distillery.student.width", "48"));
    assertEquals(7, s.train().epochs());
    assertEquals(48, s.student().width());
  }

  @Test
  void systemPropertiesOverrideTheFileButNotTheCommandLine(@TempDir Path dir) throws Exception {
    Path conf = dir.resolve("my.conf");
    Files.writeString(conf, "distillery { train.epochs = 7, student.width = 64 }");
    System.setProperty("distillery.train.epochs", "5");
    System.setProperty("distillery.student.width", "32");
    ConfigFactory.invalidateCaches();
    try {
      Settings s = Settings.load(Optional.of(conf), Map.of("distillery.student.width", "48"));
      assertEquals(5, s.train().epochs());
      assertEquals(48, s.student().width());
    } finally {
      System.clearProperty("distillery.train.epochs");
      System.clearProperty("distillery.student.width");
      ConfigFactory.invalidateCaches();
    }
  }

  @Test
  void aMistypedSystemPropertyIsRejectedByName() {
    System.setProperty("distillery.train.epoch", "3");
    ConfigFactory.invalidateCaches();
    try {
      SettingsException e = assertThrows(SettingsException.class, () -> Settings.load(Optional.empty(), Map.of()));
      assertTrue(e.getMessage().contains("distillery.train.epoch: unknown key"), e.getMessage());
    } finally {
      System.clearProperty("distillery.train.epoch");
      ConfigFactory.invalidateCaches();
    }
  }

  @Test
  void missingConfigFileIsAnError(@TempDir Path dir) {
    SettingsException e = assertThrows(SettingsException.class,
        () -> Settings.load(Optional.of(dir.resolve("nope.conf")), Map.of()));
    assertTrue(e.getMessage().contains("nope.conf"), e.getMessage());
  }

  @Test
  void sectionHashesChangeOnlyWithTheirSection() {
    Settings a = TestSettings.defaults();
    Settings b = TestSettings.withOverrides(Map.of("distillery.train.epochs", "3"));
    assertEquals(a.hashOf(List.of("corpus", "teacher")), b.hashOf(List.of("corpus", "teacher")));
    assertNotEquals(a.hashOf(List.of("train")), b.hashOf(List.of("train")));
    assertFalse(a.hashOf(List.of("corpus")).isEmpty());
  }

  @Test
  void everyDeclaredKeyIsDocumentedInReferenceConf() throws Exception {
    String reference;
    try (var in = getClass().getResourceAsStream("/reference.conf")) {
      reference = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    String[] lines = reference.split("\n");
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();
      if (line.matches("[a-z-]+\\s*=.*")) {
        String previous = lines[i - 1].strip();
        assertTrue(previous.startsWith("#") || previous.endsWith("{") && lines[i - 2].strip().startsWith("#")
                || line.contains("#"),
            "reference.conf line " + (i + 1) + " '" + line + "' has no comment documenting it");
      }
    }
  }

  @Test
  void everyKeyOfReferenceConfIsDeclaredOnceAndEveryDeclaredKeyIsInReferenceConf() throws Exception {
    List<String> declared = new ArrayList<>();
    List<Class<?>> sections = new ArrayList<>(List.of(Settings.class));
    for (int i = 0; i < sections.size(); i++) { // sections and their subsections (train.device)
      sections.addAll(List.of(sections.get(i).getDeclaredClasses()));
    }
    for (Class<?> section : sections) {
      for (Field f : section.getDeclaredFields()) {
        if (Modifier.isStatic(f.getModifiers()) && f.getType() == Key.class) {
          declared.add(((Key<?>) f.get(null)).path());
        }
      }
    }
    Set<String> unique = new TreeSet<>(declared);
    assertEquals(declared.size(), unique.size(), "a key declared twice: " + declared);
    Set<String> documented = new TreeSet<>(Settings.reference().getConfig(Settings.ROOT).entrySet().stream()
        .map(Map.Entry::getKey).toList());
    assertEquals(documented, unique, "keys of reference.conf vs keys declared in Settings");
  }

  @Test
  void kindsAreWrittenAsTheirConfigNames() throws Exception {
    ObjectMapper json = new ObjectMapper();
    assertEquals("\"embed\"", json.writeValueAsString(TaskKind.EMBED));
    assertEquals("\"onnx-embedding\"", json.writeValueAsString(TeacherKind.ONNX_EMBEDDING));
    assertEquals("teacher-context", json.valueToTree(TestSettings.defaults().student()).get("init").asText());
  }

  @Test
  void sectionHashesDependOnTheValuesNotOnTheFileTheyCameFrom(@TempDir Path dir) throws Exception {
    Path one = dir.resolve("one.conf");
    Path two = dir.resolve("elsewhere/two.conf");
    Files.createDirectories(two.getParent());
    Files.writeString(one, "distillery.corpus.languages = [\"eng\", \"deu\"]\n");
    Files.writeString(two, "\n\n# the same, three lines down in another file\ndistillery.corpus.languages = [\"eng\", \"deu\"]\n");
    Settings a = Settings.load(Optional.of(one), Map.of());
    Settings b = Settings.load(Optional.of(two), Map.of());
    assertEquals(a.hashOf(List.of("corpus")), b.hashOf(List.of("corpus")));
    assertNotEquals(a.hashOf(List.of("corpus")), TestSettings.defaults().hashOf(List.of("corpus")));
  }
}
