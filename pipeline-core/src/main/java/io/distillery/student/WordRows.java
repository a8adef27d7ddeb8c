package io.distillery.student;

import java.util.Arrays;

/**
 * One thread's cache of each word's student rows, looked up by the word's place in the text's characters: no
 * substring, no boxing, no lock on the way to a hit. Open addressing with linear probing; full at half load the slots
 * double, and past {@link #LIMIT} words of its own (or {@link #POOL_LIMIT} ints of entries) it starts over from its
 * base (natural text reuses a small set of words).
 *
 * <p>Flat, for the cache's sake: a slot is one int (its entry's place), and an entry is one run of ints in a pool
 * (hash, characters, rows, the characters two to an int, then the rows), so a hit reads the slot and one short run,
 * and the commonest words, put first, share a few hot cache lines. An object per word cost five scattered reads a hit
 * (bench/README.md).
 */
final class WordRows {
  static final int LIMIT = 1 << 18;
  /** Ints of entries a table holds at most before it starts over (64 MiB): words longer than this are not cached. */
  static final int POOL_LIMIT = 1 << 24;
  private static final int START = 1 << 12;
  private static final int HEADER = 3; // hash, characters, rows

  /** The table this one starts from (and starts over from), never written after it is copied; null for none. */
  private final WordRows base;
  private int[] slots; // 0 = empty, else the entry's place in the pool + 1
  private int[] pool;
  private int used; // ints of the pool in use
  private int size;
  private char[] text = new char[256];
  private int[] found = new int[64];

  /** An empty table. */
  WordRows() {
    this.base = null;
    startOver();
  }

  /**
   * A table holding {@code base}'s words, so one lookup finds a word whether it is {@code base}'s or this table's
   * own; {@code base} must not change after.
   */
  WordRows(WordRows base) {
    this.base = base;
    startOver();
  }

  private void startOver() {
    if (base == null) {
      slots = new int[START];
      pool = new int[START * 4];
      used = 0;
      size = 0;
    } else {
      slots = base.slots.clone();
      pool = Arrays.copyOf(base.pool, Math.max(2 * base.used, START * 4));
      used = base.used;
      size = base.size;
    }
  }

  /** {@code s}'s characters in this thread's buffer (valid until the next call). */
  char[] chars(String s) {
    if (text.length < s.length()) {
      text = new char[Math.max(s.length(), 2 * text.length)];
    }
    s.getChars(0, s.length(), text, 0);
    return text;
  }

  /** This thread's buffer for a text's rows, of at least {@code length} (valid until the next call). */
  int[] found(int length) {
    if (found.length < length) {
      found = new int[Math.max(length, 2 * found.length)];
    }
    return found;
  }

  /** The entry of {@code text[start, end)}, or -1 if it is not cached. */
  int find(char[] text, int start, int end) {
    int hash = hash(text, start, end);
    int mask = slots.length - 1;
    for (int i = hash & mask; ; i = (i + 1) & mask) {
      int slot = slots[i];
      if (slot == 0) {
        return -1;
      }
      int entry = slot - 1;
      if (pool[entry] == hash && same(entry, text, start, end)) {
        return entry;
      }
    }
  }

  /**
   * Copies the rows of {@code entry} (from {@link #find}) into {@code dest} from {@code at}, at most up to
   * {@code limit}; returns how many.
   */
  int copyRows(int entry, int[] dest, int at, int limit) {
    int take = Math.min(pool[entry + 2], limit - at);
    int from = entry + HEADER + ((pool[entry + 1] + 1) >> 1);
    for (int k = 0; k < take; k++) { // a word has a row or two: a loop beats arraycopy's set-up
      dest[at + k] = pool[from + k];
    }
    return take;
  }

  /** The rows of {@code text[start, end)}, or null if not cached (for tests). */
  int[] get(char[] text, int start, int end) {
    int entry = find(text, start, end);
    if (entry < 0) {
      return null;
    }
    int[] rows = new int[pool[entry + 2]];
    copyRows(entry, rows, 0, rows.length);
    return rows;
  }

  /** Caches {@code wordRows} for {@code text[start, end)}, which {@link #find} did not find. */
  void put(char[] text, int start, int end, int[] wordRows) {
    int length = end - start;
    long need = HEADER + ((length + 1L) >> 1) + wordRows.length;
    if (need > POOL_LIMIT - (base == null ? 0 : base.used)) { // too long to cache: keep what is cached
      return;
    }
    if (size - (base == null ? 0 : base.size) >= LIMIT || used + need > POOL_LIMIT) {
      startOver();
    }
    if (2 * (size + 1) > slots.length) {
      grow();
    }
    if (used + need > pool.length) {
      pool = Arrays.copyOf(pool, (int) Math.min(POOL_LIMIT, Math.max(used + need, 2L * pool.length)));
    }
    int entry = used;
    int hash = hash(text, start, end);
    pool[entry] = hash;
    pool[entry + 1] = length;
    pool[entry + 2] = wordRows.length;
    int p = entry + HEADER;
    for (int k = 0; k < length; k += 2) {
      pool[p++] = k + 1 < length ? text[start + k] | text[start + k + 1] << 16 : text[start + k];
    }
    System.arraycopy(wordRows, 0, pool, p, wordRows.length);
    used = p + wordRows.length;
    insert(entry, hash);
    size++;
  }

  private void insert(int entry, int hash) {
    int mask = slots.length - 1;
    int i = hash & mask;
    while (slots[i] != 0) {
      i = (i + 1) & mask;
    }
    slots[i] = entry + 1;
  }

  private void grow() {
    int[] old = slots;
    slots = new int[old.length * 2];
    for (int slot : old) {
      if (slot != 0) {
        insert(slot - 1, pool[slot - 1]);
      }
    }
  }

  /** Whether {@code entry}'s word is {@code text[start, end)}, two characters to an int. */
  private boolean same(int entry, char[] text, int start, int end) {
    int length = end - start;
    if (pool[entry + 1] != length) {
      return false;
    }
    int p = entry + HEADER;
    int k = 0;
    for (; k + 2 <= length; k += 2) {
      if (pool[p++] != (text[start + k] | text[start + k + 1] << 16)) {
        return false;
      }
    }
    return k == length || pool[p] == text[start + k];
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
