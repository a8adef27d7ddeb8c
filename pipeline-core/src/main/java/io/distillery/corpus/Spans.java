package io.distillery.corpus;

import io.distillery.util.Hashing;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Training-prompt augmentation: contiguous word windows of a sentence. For a bag-of-tokens student each
 * window the teacher answers is one more constraint on the same token vectors, so the student learns more
 * from the same text. Deterministic per sentence (seeded by its row id), so re-runs ask the same prompts.
 */
public final class Spans {
  private Spans() {}

  /**
   * Up to {@code count} distinct windows of 40% to 80% of the sentence's words and at least {@code minWords}
   * words; none for sentences too short to have such a window.
   */
  public static List<String> of(String sentence, String rowId, int count, int minWords) {
    String[] words = sentence.split(" ");
    int longest = (int) Math.floor(words.length * 0.8);
    int shortest = Math.max(minWords, (int) Math.ceil(words.length * 0.4));
    if (count == 0 || longest < shortest) {
      return List.of();
    }
    Random random = new Random(Long.parseUnsignedLong(Hashing.sha256Hex("span:" + rowId).substring(0, 15), 16));
    Set<String> spans = new LinkedHashSet<>();
    for (int attempt = 0; attempt < count * 3 && spans.size() < count; attempt++) {
      int length = shortest + random.nextInt(longest - shortest + 1);
      int start = random.nextInt(words.length - length + 1);
      spans.add(String.join(" ", Arrays.asList(words).subList(start, start + length)));
    }
    return new ArrayList<>(spans);
  }
}
