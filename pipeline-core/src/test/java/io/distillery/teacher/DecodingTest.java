package io.distillery.teacher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The decoding loop's top-k selection against the plain definition: sort every index by value, then by index. */
class DecodingTest {
  private static int[] reference(float[] v, int k) {
    return IntStream.range(0, v.length).boxed()
        .sorted((a, b) -> v[a] != v[b] ? Float.compare(v[b], v[a]) : Integer.compare(a, b))
        .limit(Math.min(k, v.length)).mapToInt(Integer::intValue).toArray();
  }

  @Test
  void topKIsTheKLargestLargestFirstTiesByIndex() {
    SplittableRandom random = new SplittableRandom(3);
    for (int round = 0; round < 200; round++) {
      int n = 1 + random.nextInt(600);
      float[] v = new float[n];
      for (int i = 0; i < n; i++) {
        // Few distinct values, both signs, zeros of both signs: many ties.
        v[i] = random.nextInt(4) == 0 ? (random.nextBoolean() ? 0f : -0f) : (random.nextInt(21) - 10) / 4f;
      }
      for (int k : new int[] {0, 1, 5, 20, 100, n, n + 7}) {
        assertArrayEquals(reference(v, k), Decoding.topK(v, k), "n = " + n + ", k = " + k);
      }
    }
  }
}
