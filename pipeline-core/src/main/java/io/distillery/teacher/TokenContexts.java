package io.distillery.teacher;

import java.nio.FloatBuffer;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * A transformer teacher's last hidden state summed per token id over the texts it embedded (special tokens
 * included, under their own ids), with occurrence counts. Divided by its count, a token's sum is its mean vector
 * in context: the static vector that best stands in for the token wherever it occurred, and the student's start
 * (student.init = teacher-context). Mean pooling of those means approximates the teacher's own mean pooling, so a
 * student starts close to the teacher instead of from the token seen alone.
 *
 * <p>Not thread-safe: one per partition. Memory is bounded by the vocabulary: one float per dimension per distinct
 * token.
 */
public final class TokenContexts {
  private final int dimension;
  private final Map<Long, Sum> sums = new HashMap<>();

  public TokenContexts(int dimension) {
    if (dimension <= 0) {
      throw new IllegalArgumentException("dimension must be > 0, was " + dimension);
    }
    this.dimension = dimension;
  }

  /** One token's running sum. */
  private static final class Sum {
    final float[] vector;
    long occurrences;

    Sum(int dimension) {
      vector = new float[dimension];
    }
  }

  /** A token's total: its id, how often it occurred and the sum of its hidden states there. */
  public record Total(long tokenId, long occurrences, float[] sum) {}

  public int dimension() {
    return dimension;
  }

  /**
   * Adds one text's hidden states: {@code hidden} holds {@code [tokens, dimension]} floats row-major from its
   * position 0, {@code ids} and {@code mask} the text's token ids and attention mask; masked positions are skipped.
   */
  public void add(long[] ids, long[] mask, FloatBuffer hidden, int hiddenDimension) {
    if (hiddenDimension != dimension) {
      throw new IllegalArgumentException("hidden states have dimension " + hiddenDimension + ", expected "
          + dimension);
    }
    if (hidden.limit() < ids.length * dimension) {
      throw new IllegalArgumentException("hidden states hold " + hidden.limit() + " floats, fewer than "
          + ids.length + " tokens x " + dimension);
    }
    for (int t = 0; t < ids.length; t++) {
      if (mask[t] == 0) {
        continue;
      }
      Sum s = sums.computeIfAbsent(ids[t], id -> new Sum(dimension));
      s.occurrences++;
      int offset = t * dimension;
      for (int d = 0; d < dimension; d++) {
        s.vector[d] += hidden.get(offset + d);
      }
    }
  }

  /** Distinct tokens seen. */
  public int size() {
    return sums.size();
  }

  /** The totals, in no particular order. */
  public Iterator<Total> totals() {
    Iterator<Map.Entry<Long, Sum>> it = sums.entrySet().iterator();
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return it.hasNext();
      }

      @Override
      public Total next() {
        Map.Entry<Long, Sum> e = it.next();
        return new Total(e.getKey(), e.getValue().occurrences, e.getValue().vector);
      }
    };
  }
}
