package io.distillery.teacher;

import java.util.List;
import java.util.stream.IntStream;

/** A teacher that answers with a probability distribution over a fixed label vocabulary (task classify). */
public interface LabelTeacher extends Teacher {
  /** The label vocabulary, in the order of {@link #distribution}'s values. */
  List<String> labels();

  /** Probability of each label of {@link #labels()}, in that order; the values sum to 1. */
  float[] distribution(String text);

  /** The k most probable labels of one answer, most probable first (ties: the earlier label first). */
  record TopK(String[] labels, float[] probabilities) {

    public static TopK of(float[] distribution, List<String> vocabulary, int k) {
      int n = Math.min(k, distribution.length);
      int[] order = IntStream.range(0, distribution.length).boxed()
          .sorted((a, b) -> distribution[a] != distribution[b] ? Float.compare(distribution[b], distribution[a])
              : Integer.compare(a, b))
          .limit(n).mapToInt(Integer::intValue).toArray();
      String[] labels = new String[n];
      float[] probabilities = new float[n];
      for (int i = 0; i < n; i++) {
        labels[i] = vocabulary.get(order[i]);
        probabilities[i] = distribution[order[i]];
      }
      return new TopK(labels, probabilities);
    }
  }
}
