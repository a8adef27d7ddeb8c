package io.distillery.corpus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.distillery.TestSettings;
import io.distillery.settings.Settings;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class PromptPreparerTest {
  private final Settings settings = TestSettings.defaults();
  private final PromptPreparer preparer = new PromptPreparer(settings.corpus());
  private final LanguageDetector detector = LanguageDetector.shared();

  @Test
  void splitsEnglishIntoPromptsAndQuarantinesBadSentencesWithTheirReason() {
    String doc = "Madam President, the Commission has presented its proposal on fisheries today.   "
        + "Thank you. " // too short
        + "We must protect the fish stocks of the Baltic Sea for the next generation of fishermen. "
        + "This sentence has a broken \uFFFD byte in the middle of it, sadly enough. "
        + "Words " + "word ".repeat(70).strip() + ".";
    List<PromptCandidate> out = preparer.prepare(doc, detector);
    assertEquals(5, out.size(), out.toString());
    assertEquals(PromptCandidate.Status.PROMPT, out.get(0).status());
    assertEquals("eng", out.get(0).language());
    assertEquals("too_short", out.get(1).reason());
    assertEquals(PromptCandidate.Status.PROMPT, out.get(2).status());
    assertEquals("undecodable", out.get(3).reason());
    assertEquals("too_long", out.get(4).reason());
  }

  @Test
  void documentsInOtherLanguagesAreSkippedAsAWhole() {
    List<PromptCandidate> out = preparer.prepare("Die Kommission hat heute ihren Vorschlag zur Fischerei "
        + "vorgelegt. Wir müssen die Fischbestände der Ostsee für die nächste Generation schützen.", detector);
    assertEquals(1, out.size());
    assertEquals(PromptCandidate.Status.OTHER_LANGUAGE, out.get(0).status());
    assertEquals("deu", out.get(0).language());
  }

  @Test
  void emptyDocumentsAreQuarantined() {
    assertEquals("empty", preparer.prepare("   ", detector).get(0).reason());
    assertEquals("empty", preparer.prepare(null, detector).get(0).reason());
  }

  @Test
  void rowIdsAreContentHashesOfNormalisedText() {
    String a = preparer.prepare("The vote will take place   tomorrow at noon in Strasbourg.", detector).get(0).rowId();
    String b = preparer.prepare("The vote will take place tomorrow at noon in Strasbourg.", detector).get(0).rowId();
    assertEquals(a, b);
    assertEquals(32, a.length());
  }

  @Test
  void splitsAreStableAndRoughlyAsConfigured() {
    Settings s = TestSettings.withOverrides(Map.of("distillery.corpus.test-fraction", "0.2",
        "distillery.corpus.validation-fraction", "0.1"));
    int test = 0;
    int validation = 0;
    for (int i = 0; i < 10_000; i++) {
      Split split = Split.of(PromptPreparer.rowId("sentence " + i), s.corpus());
      assertEquals(split, Split.of(PromptPreparer.rowId("sentence " + i), s.corpus()));
      test += split == Split.TEST ? 1 : 0;
      validation += split == Split.VALIDATION ? 1 : 0;
    }
    assertEquals(2000, test, 150);
    assertEquals(1000, validation, 100);
  }

  @Test
  void spansAreDeterministicWindowsWithinBounds() {
    String sentence = "We must protect the fish stocks of the Baltic Sea for the next generation of fishermen";
    List<String> spans = Spans.of(sentence, "abc123", 3, 5);
    assertEquals(spans, Spans.of(sentence, "abc123", 3, 5));
    assertTrue(!spans.isEmpty() && spans.size() <= 3, spans.toString());
    int words = sentence.split(" ").length;
    for (String span : spans) {
      int n = span.split(" ").length;
      assertTrue(sentence.contains(span), span);
      assertTrue(n >= 5 && n >= Math.ceil(words * 0.4) && n <= Math.floor(words * 0.8), span);
    }
    assertEquals(List.of(), Spans.of("Too short to cut up now", "x", 2, 5));
    assertEquals(List.of(), Spans.of(sentence, "x", 0, 5));
  }

  @Test
  void europarlShardsPartitionTheCorpus() {
    AtomicLong all = new AtomicLong();
    Europarl.read(0, 1, 300, (line, body) -> all.incrementAndGet());
    AtomicLong sharded = new AtomicLong();
    for (int shard = 0; shard < 3; shard++) {
      Europarl.read(shard, 3, 300, (line, body) -> sharded.incrementAndGet());
    }
    assertEquals(300, all.get());
    assertEquals(all.get(), sharded.get());
  }
}
