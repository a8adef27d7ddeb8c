package io.distillery.dataset;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Packed top-k alternatives: ids exact, log-probabilities within half a step, 4 bytes an alternative. */
class PackedTopKTest {

  @Test
  void idsComeBackExactAndLogprobsWithinHalfAStep() {
    SplittableRandom random = new SplittableRandom(3);
    int k = 20;
    int[][] ids = new int[50][k];
    float[][] logprobs = new float[50][k];
    for (int p = 0; p < ids.length; p++) {
      float lp = 0;
      for (int i = 0; i < k; i++) {
        ids[p][i] = random.nextInt(65536);
        lp -= (float) random.nextDouble(0, 2);
        logprobs[p][i] = lp;
      }
    }
    byte[] packed = PackedTopK.pack(ids, logprobs, k);
    assertEquals(50 * 80, packed.length, "4 bytes per alternative");
    assertArrayEquals(ids, PackedTopK.ids(packed, k));
    float[][] back = PackedTopK.logprobs(packed, k);
    for (int p = 0; p < ids.length; p++) {
      for (int i = 0; i < k; i++) {
        float expected = Math.max(logprobs[p][i], -PackedTopK.FLOOR_NATS);
        assertEquals(expected, back[p][i], 1.0 / PackedTopK.HALF_STEP + 1e-6, "position " + p + ", " + i);
      }
    }
  }

  @Test
  void whatDoesNotFitIsRefused() {
    assertThrows(IllegalArgumentException.class,
        () -> PackedTopK.pack(new int[][] {{70_000}}, new float[][] {{-1f}}, 1));
    assertThrows(IllegalArgumentException.class,
        () -> PackedTopK.pack(new int[][] {{1, 2}}, new float[][] {{-1f}}, 2));
    assertThrows(IllegalArgumentException.class, () -> PackedTopK.ids(new byte[6], 2));
  }
}
