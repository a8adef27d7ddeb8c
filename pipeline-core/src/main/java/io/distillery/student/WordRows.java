package io.distillery.student;

/**
 * One thread's cache of each word's student rows, looked up by the word's place in the text: no substring, no
 * boxing, no lock on the way to a hit. Open addressing with linear probing over parallel arrays; full at half load
 * it doubles, and past {@link #LIMIT} words it starts over (natural text reuses a small set of words).
 */
final class WordRows {
  static final int LIMIT = 1 << 18;

  private String[] words = new String[1 << 12];
  private int[] hashes = new int[1 << 12];
  private int[][] rows = new int[1 << 12][];
  private int size;

  /** The rows of {@code text[start, end)}, or null if not cached. */
  int[] get(String text, int start, int end) {
    int hash = hash(text, start, end);
    int mask = words.length - 1;
    int length = end - start;
    for (int i = hash & mask; ; i = (i + 1) & mask) {
      String w = words[i];
      if (w == null) {
        return null;
      }
      if (hashes[i] == hash && w.length() == length && w.regionMatches(0, text, start, length)) {
        return rows[i];
      }
    }
  }

  /** Caches {@code wordRows} for {@code word} (not cached yet) and returns them. */
  int[] put(String word, int[] wordRows) {
    if (size >= LIMIT) {
      words = new String[1 << 12];
      hashes = new int[1 << 12];
      rows = new int[1 << 12][];
      size = 0;
    } else if (2 * (size + 1) > words.length) {
      grow();
    }
    insert(word, hash(word, 0, word.length()), wordRows);
    size++;
    return wordRows;
  }

  private void insert(String word, int hash, int[] wordRows) {
    int mask = words.length - 1;
    int i = hash & mask;
    while (words[i] != null) {
      i = (i + 1) & mask;
    }
    words[i] = word;
    hashes[i] = hash;
    rows[i] = wordRows;
  }

  private void grow() {
    String[] oldWords = words;
    int[] oldHashes = hashes;
    int[][] oldRows = rows;
    words = new String[oldWords.length * 2];
    hashes = new int[oldWords.length * 2];
    rows = new int[oldWords.length * 2][];
    for (int i = 0; i < oldWords.length; i++) {
      if (oldWords[i] != null) {
        insert(oldWords[i], oldHashes[i], oldRows[i]);
      }
    }
  }

  /** String's hash of the range, its bits spread so that the low ones (the slot) depend on every character. */
  private static int hash(String text, int start, int end) {
    int h = 0;
    for (int i = start; i < end; i++) {
      h = 31 * h + text.charAt(i);
    }
    h *= 0x9E3779B9;
    return h ^ (h >>> 16);
  }
}
