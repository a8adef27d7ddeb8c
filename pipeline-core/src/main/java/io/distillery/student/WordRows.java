package io.distillery.student;

import java.util.Arrays;

/**
 * One thread's cache of each word's student rows, looked up by the word's place in the text's characters: no
 * substring, no boxing, no lock on the way to a hit. Open addressing with linear probing over parallel arrays; full at
 * half load it doubles, and past {@link #LIMIT} words it starts over (natural text reuses a small set of words).
 */
final class WordRows {
  static final int LIMIT = 1 << 18;
  private static final int START = 1 << 12;

  private char[][] words = new char[START][];
  private int[] hashes = new int[START];
  private int[][] rows = new int[START][];
  private int size;
  private char[] text = new char[256];

  /** {@code s}'s characters in this thread's buffer (valid until the next call). */
  char[] chars(String s) {
    if (text.length < s.length()) {
      text = new char[Math.max(s.length(), 2 * text.length)];
    }
    s.getChars(0, s.length(), text, 0);
    return text;
  }

  /** The rows of {@code text[start, end)}, or null if not cached. */
  int[] get(char[] text, int start, int end) {
    int hash = hash(text, start, end);
    int mask = words.length - 1;
    for (int i = hash & mask; ; i = (i + 1) & mask) {
      char[] w = words[i];
      if (w == null) {
        return null;
      }
      if (hashes[i] == hash && same(w, text, start, end)) {
        return rows[i];
      }
    }
  }

  /** Caches {@code wordRows} for {@code text[start, end)} (not cached yet) and returns them. */
  int[] put(char[] text, int start, int end, int[] wordRows) {
    if (size >= LIMIT) {
      words = new char[START][];
      hashes = new int[START];
      rows = new int[START][];
      size = 0;
    } else if (2 * (size + 1) > words.length) {
      grow();
    }
    insert(Arrays.copyOfRange(text, start, end), hash(text, start, end), wordRows);
    size++;
    return wordRows;
  }

  private void insert(char[] word, int hash, int[] wordRows) {
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
    char[][] oldWords = words;
    int[] oldHashes = hashes;
    int[][] oldRows = rows;
    words = new char[oldWords.length * 2][];
    hashes = new int[oldWords.length * 2];
    rows = new int[oldWords.length * 2][];
    for (int i = 0; i < oldWords.length; i++) {
      if (oldWords[i] != null) {
        insert(oldWords[i], oldHashes[i], oldRows[i]);
      }
    }
  }

  /** Whether {@code word} is {@code text[start, end)}; a plain loop: most words are shorter than a vector. */
  private static boolean same(char[] word, char[] text, int start, int end) {
    if (word.length != end - start) {
      return false;
    }
    for (int k = 0; k < word.length; k++) {
      if (word[k] != text[start + k]) {
        return false;
      }
    }
    return true;
  }

  /** String's hash of the range, its bits spread so that the low ones (the slot) depend on every character. */
  private static int hash(char[] text, int start, int end) {
    int h = 0;
    for (int i = start; i < end; i++) {
      h = 31 * h + text[i];
    }
    h *= 0x9E3779B9;
    return h ^ (h >>> 16);
  }
}
