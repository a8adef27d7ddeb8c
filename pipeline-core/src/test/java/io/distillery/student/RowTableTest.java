package io.distillery.student;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class RowTableTest {

  @Test
  void roundsToTheNearestBfloat16WithTiesToEven() {
    assertEquals((short) 0x3F80, RowTable.bf16(1f));
    assertEquals((short) 0x3F80, RowTable.bf16(Float.intBitsToFloat(0x3F808000))); // tie, 0x3F80 is even
    assertEquals((short) 0x3F82, RowTable.bf16(Float.intBitsToFloat(0x3F818000))); // tie, 0x3F81 is odd
    assertEquals((short) 0x3F81, RowTable.bf16(Float.intBitsToFloat(0x3F808001))); // above the tie
    assertEquals((short) 0xBF81, RowTable.bf16(Float.intBitsToFloat(0xBF808001))); // negative, same magnitude
    assertTrue(Float.isNaN(RowTable.widened(new short[][] {{RowTable.bf16(Float.NaN)}})[0][0]));
    Random random = new Random(3);
    for (int i = 0; i < 10_000; i++) {
      float v = (float) random.nextGaussian() * 10;
      float rounded = RowTable.widened(new short[][] {{RowTable.bf16(v)}})[0][0];
      assertTrue(Math.abs(rounded - v) <= Math.abs(v) * 0x1p-8f, v + " rounded to " + rounded);
    }
  }

  @Test
  void vectorSumsEqualTheSameRoundedRowsSummedAsFloats() {
    // The test JVMs get conf/jvm.properties' flags, the Vector API's module among them: the vector path is the one
    // under test here, not the fallback.
    assertTrue(RowTable.vectorised(), "jdk.incubator.vector missing from this JVM's flags");
    Random random = new Random(11);
    for (int width : new int[] {448, 13, 1, 16, 31}) {
      float[][] rows = new float[20][width];
      for (float[] row : rows) {
        for (int d = 0; d < width; d++) {
          row[d] = (float) random.nextGaussian();
        }
      }
      RowTable bf16 = RowTable.of(rows, RowTable.Precision.BF16);
      assertTrue(bf16 instanceof Bf16Rows);
      short[][] rounded = new short[rows.length][width];
      for (int r = 0; r < rows.length; r++) {
        for (int d = 0; d < width; d++) {
          rounded[r][d] = RowTable.bf16(rows[r][d]);
        }
      }
      RowTable floats = new RowTable.FloatRows(RowTable.widened(rounded));
      for (int n = 1; n <= 9; n++) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
          ids[i] = random.nextInt(rows.length);
        }
        float[] vector = new float[width];
        float[] scalar = new float[width];
        bf16.addRows(ids, vector);
        floats.addRows(ids, scalar);
        assertArrayEquals(scalar, vector, 0f, "width " + width + ", " + n + " rows");
        float[] weights = new float[n];
        for (int i = 0; i < n; i++) {
          weights[i] = (float) random.nextGaussian();
        }
        float[] scaledVector = vector.clone();
        float[] scaledScalar = scalar.clone();
        bf16.addScaled(ids, weights, n - 1, scaledVector); // n - 1: none, one alone, and pairs
        floats.addScaled(ids, weights, n - 1, scaledScalar);
        assertArrayEquals(scaledScalar, scaledVector, 0f, "width " + width + ", " + (n - 1) + " scaled rows");
      }
      assertArrayEquals(floats.row(7), bf16.row(7), 0f);
    }
  }
}
