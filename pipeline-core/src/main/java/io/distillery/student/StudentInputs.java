package io.distillery.student;

import io.distillery.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Turns texts into the student's inputs: the teacher's tokens mapped to the student's vocabulary rows, padded
 * to a fixed length, with a mask so mean pooling only sees real tokens. Fixed length lets DL4J merge examples into batches.
 */
public final class StudentInputs {
  private final Tokenizer tokenizer;
  private final Vocabulary vocabulary;
  private final int maxTokens;
  /**
   * Rows of the special tokens the teacher reads around every text, when the vocabulary has them all (a student
   * started from the teacher's context vectors): the student then pools what the teacher pools. Else none.
   */
  private final int[] specialRows;
  /** The known words' rows, worked out once here and only read after: every thread's cache starts as a copy. */
  private final WordRows known;
  /** Each thread's cache, starting from a copy of {@link #known} (its words found in one lookup). */
  private final ThreadLocal<WordRows> wordRows;

  /**
   * @param knownWords words (runs of non-whitespace) to tokenize now rather than on first sight, e.g. the training
   *     split's most frequent (a student artifact's {@link StudentArtifact#knownWords}); only the first
   *     {@link WordRows#LIMIT} count, and only for a tokenizer that splits word by word
   */
  public StudentInputs(Tokenizer tokenizer, Vocabulary vocabulary, int maxTokens, List<String> knownWords) {
    this.tokenizer = tokenizer;
    this.vocabulary = vocabulary;
    this.maxTokens = maxTokens;
    long[] special = tokenizer.specialIds();
    boolean all = special.length > 0 && special.length < maxTokens;
    int[] rows = new int[special.length];
    for (int i = 0; i < special.length && all; i++) {
      rows[i] = vocabulary.row(special[i]);
      all = rows[i] != Vocabulary.UNKNOWN_ROW;
    }
    this.specialRows = all ? rows : new int[0];
    this.known = new WordRows();
    if (tokenizer.tokenizesWordByWord()) {
      for (String word : knownWords.subList(0, Math.min(knownWords.size(), WordRows.LIMIT))) {
        char[] chars = Tokenizer.requireWord(word).toCharArray();
        if (known.find(chars, 0, chars.length) < 0) {
          known.put(chars, 0, chars.length, rowsOf(tokenizer.wordIds(word)));
        }
      }
    }
    this.wordRows = ThreadLocal.withInitial(() -> new WordRows(known));
  }

  /** Whether {@code word} is one of the known words (for tests). */
  boolean knows(String word) {
    return known.find(word.toCharArray(), 0, word.length()) >= 0;
  }

  public int maxTokens() {
    return maxTokens;
  }

  /**
   * Student rows of one text's tokens, then of the special tokens if the student has them (without them, the
   * unknown row alone for a text with no tokens). For a tokenizer that splits word by word, each word's rows come
   * from this thread's cache, which starts with the known words ({@link WordRows}); the same rows as
   * {@link #referenceRows} (the tests compare them).
   */
  public int[] rows(String text) {
    if (!tokenizer.tokenizesWordByWord()) {
      return referenceRows(text);
    }
    WordRows cache = wordRows.get();
    int limit = maxTokens - specialRows.length;
    int[] rows = cache.found(maxTokens);
    int n = 0;
    char[] chars = cache.chars(text);
    int length = text.length();
    for (int start = Tokenizer.wordStart(chars, 0, length); start < length && n < limit; ) {
      int end = Tokenizer.wordEnd(chars, start, length);
      int entry = cache.find(chars, start, end);
      if (entry >= 0) {
        n += cache.copyRows(entry, rows, n, limit);
      } else {
        int[] word = rowsOf(tokenizer.wordIds(text.substring(start, end)));
        cache.put(chars, start, end, word);
        int take = Math.min(word.length, limit - n);
        System.arraycopy(word, 0, rows, n, take);
        n += take;
      }
      start = Tokenizer.wordStart(chars, end, length);
    }
    return finish(rows, n);
  }

  /**
   * {@link #rows} as computed before the word-row cache: the tokenizer's ids for the whole text, then a vocabulary
   * lookup per token (the reference the tests hold {@link #rows} to, and the baseline bench/run.sh times).
   */
  public int[] referenceRows(String text) {
    long[] tokens = tokenizer.tokenIds(text, maxTokens - specialRows.length);
    return finish(rowsOf(tokens), tokens.length);
  }

  private int[] rowsOf(long[] tokens) {
    int[] rows = new int[tokens.length];
    for (int t = 0; t < tokens.length; t++) {
      rows[t] = vocabulary.row(tokens[t]);
    }
    return rows;
  }

  /**
   * The first {@code n} token rows (of {@code tokenRows}, which may be longer), then the special tokens' (or the
   * unknown row for a text without tokens).
   */
  private int[] finish(int[] tokenRows, int n) {
    if (n == 0 && specialRows.length == 0) {
      return new int[] {Vocabulary.UNKNOWN_ROW};
    }
    int[] rows = Arrays.copyOf(tokenRows, n + specialRows.length);
    System.arraycopy(specialRows, 0, rows, n, specialRows.length);
    return rows;
  }

  /** Features [n, maxTokens] (student rows as floats) and mask [n, maxTokens] for a batch of texts. */
  public INDArray[] features(List<String> texts) {
    float[][] ids = new float[texts.size()][maxTokens];
    float[][] mask = new float[texts.size()][maxTokens];
    for (int i = 0; i < texts.size(); i++) {
      int[] rows = rows(texts.get(i)); // never empty, so pooling never divides by zero
      for (int t = 0; t < rows.length; t++) {
        ids[i][t] = rows[t];
        mask[i][t] = 1;
      }
    }
    return new INDArray[] {Nd4j.createFromArray(ids), Nd4j.createFromArray(mask)};
  }

  /** A one-example training DataSet: the student's input for {@code text}, the teacher's embedding as label. */
  public DataSet example(String text, float[] teacherEmbedding) {
    INDArray[] f = features(List.of(text));
    INDArray label = Nd4j.create(teacherEmbedding, new long[] {1, teacherEmbedding.length}, DataType.FLOAT);
    return new DataSet(f[0], label, f[1], null);
  }
}
