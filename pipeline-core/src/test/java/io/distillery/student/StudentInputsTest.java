package io.distillery.student;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.distillery.TestSettings;
import io.distillery.corpus.Europarl;
import io.distillery.settings.Settings;
import io.distillery.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class StudentInputsTest {
  private final Settings.Teacher spec = TestSettings.defaults().teacher();
  private final Tokenizer tokenizer = Tokenizer.shared(spec.tokenizer(), spec.maxTokens());

  /** Documents in 21 languages, and texts at the edges: empty, whitespace only, a word longer than any limit. */
  private static List<String> texts() {
    List<String> texts = new ArrayList<>();
    Europarl.read(0, 1, 300, (line, body) -> texts.add(body.length() > 800 ? body.substring(0, 800) : body));
    texts.addAll(List.of("", " \t\n ", "word", "  leading and trailing  ", "x".repeat(300),
        "Ünïcödé   spaced\u2003words\u00a0and\u3000ideographic　space",
        // Words the tokenizer drops whole (control characters) give no rows: the rows after them still come.
        "\u0001 \u0002 \u0001\u0002 \u0001 kept after dropped words \u0001 and"));
    return texts;
  }

  @Test
  void cachedWordRowsAreTheReferenceRowsWithAndWithoutSpecialTokensAtEveryLength() {
    List<String> texts = texts();
    // A vocabulary from the first documents only, so that later ones meet unknown tokens.
    long[] seen = texts.subList(0, 40).stream().flatMapToLong(t -> Arrays.stream(tokenizer.tokenIds(t, 512)))
        .toArray();
    Vocabulary words = Vocabulary.of(seen);
    Vocabulary withSpecials = Vocabulary.of(LongStream.concat(Arrays.stream(seen),
        Arrays.stream(tokenizer.specialIds())).toArray());
    // Known words: those of every other document (punctuation attached, in many languages, some repeated).
    List<String> known = new ArrayList<>();
    for (int i = 0; i < texts.size(); i += 2) {
      known.addAll(Arrays.asList(texts.get(i).strip().split("\\s+")).stream().filter(w -> !w.isEmpty()).toList());
    }
    int compared = 0;
    for (List<String> knownWords : List.of(List.<String>of(), known)) {
      for (Vocabulary vocabulary : List.of(words, withSpecials)) {
        for (int maxTokens : List.of(3, 16, 64, 512)) {
          StudentInputs inputs = new StudentInputs(tokenizer, vocabulary, maxTokens, knownWords);
          for (int pass = 0; pass < 2; pass++) { // the second pass reads every word from a cache
            for (String t : texts) {
              assertArrayEquals(inputs.referenceRows(t), inputs.rows(t), () -> maxTokens + " tokens: " + t);
              compared++;
            }
          }
        }
      }
    }
    assertEquals(2 * 2 * 4 * 2 * texts.size(), compared);
    StudentInputs inputs = new StudentInputs(tokenizer, words, 64, List.of());
    assertTrue(Arrays.stream(inputs.rows(texts.get(200))).anyMatch(r -> r == Vocabulary.UNKNOWN_ROW),
        "a later document meets tokens the vocabulary lacks");
    assertArrayEquals(new int[] {Vocabulary.UNKNOWN_ROW}, inputs.rows(" "), "no tokens: the unknown row alone");
  }

  @Test
  void knownWordsAreTokenizedOnceForEveryThreadAndMustBeWords() throws Exception {
    Vocabulary vocabulary = Vocabulary.of(tokenizer.tokenIds("The Commission's proposal, as amended.", 64));
    StudentInputs inputs = new StudentInputs(tokenizer, vocabulary, 64, List.of("proposal,", "The", "The"));
    assertTrue(inputs.knows("proposal,") && inputs.knows("The"));
    assertTrue(!inputs.knows("proposal") && !inputs.knows("amended."), "only the words given, as given");
    int[][] fromOtherThread = new int[1][];
    Thread other = new Thread(() -> fromOtherThread[0] = inputs.rows("The proposal, as amended."));
    other.start();
    other.join();
    assertArrayEquals(inputs.referenceRows("The proposal, as amended."), fromOtherThread[0]);
    for (String notAWord : List.of("", "two words", "tab\there", "trailing\n")) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> new StudentInputs(tokenizer, vocabulary, 64, List.of("fine", notAWord)));
      assertTrue(e.getMessage().contains("run of non-whitespace"), e.getMessage());
    }
  }

  @Test
  void theWordCacheHoldsUpAcrossGrowthAndStartingOver() {
    WordRows cache = new WordRows();
    int words = WordRows.LIMIT + 5_000;
    for (int i = 0; i < words; i++) {
      char[] text = (" w" + i + " ").toCharArray();
      if (i < WordRows.LIMIT) {
        assertEquals(null, cache.get(text, 1, text.length - 1));
      }
      cache.put(text, 1, text.length - 1, new int[] {i});
    }
    // Started over at the limit: the words since are there, the first ones are not.
    char[] last = ("w" + (words - 1)).toCharArray();
    assertArrayEquals(new int[] {words - 1}, cache.get(last, 0, last.length));
    assertEquals(null, cache.get("w0".toCharArray(), 0, 2));
    assertEquals(null, cache.get("w1".toCharArray(), 0, 1), "a prefix of a cached word is another word");
  }

  @Test
  void wordsWithTheSameHashAreTwoWordsAndAThreadsTableLeavesItsBaseAlone() {
    WordRows base = new WordRows();
    // "Aa" and "BB" (and so "AaAa" and "BBBB") have the same String hash, hence the same slot.
    base.put("Aa".toCharArray(), 0, 2, new int[] {1});
    assertEquals(null, base.get("BB".toCharArray(), 0, 2));
    base.put("BB".toCharArray(), 0, 2, new int[] {2, 3});
    base.put("AaAa".toCharArray(), 0, 4, new int[] {4});
    assertEquals(null, base.get("BBBB".toCharArray(), 0, 4));
    assertArrayEquals(new int[] {1}, base.get("Aa".toCharArray(), 0, 2));
    assertArrayEquals(new int[] {2, 3}, base.get("BB".toCharArray(), 0, 2));
    WordRows own = new WordRows(base);
    assertArrayEquals(new int[] {4}, own.get("AaAa".toCharArray(), 0, 4), "a base word found in one lookup");
    for (int i = 0; i < WordRows.LIMIT + 10; i++) { // its own words, past the limit: it starts over from the base
      char[] w = ("w" + i).toCharArray();
      own.put(w, 0, w.length, new int[] {i});
    }
    assertEquals(null, base.get("w0".toCharArray(), 0, 2), "the base never sees a thread's words");
    assertArrayEquals(new int[] {2, 3}, own.get("BB".toCharArray(), 0, 2), "started over, the base words kept");
    char[] tooLong = "y".repeat(2 * WordRows.POOL_LIMIT + 2).toCharArray();
    own.put(tooLong, 0, tooLong.length, new int[] {7});
    assertEquals(null, own.get(tooLong, 0, tooLong.length), "a word longer than the pool is not cached");
    char[] recent = ("w" + (WordRows.LIMIT + 9)).toCharArray();
    assertArrayEquals(new int[] {WordRows.LIMIT + 9}, own.get(recent, 0, recent.length), "nor does it empty the cache");
  }
}
