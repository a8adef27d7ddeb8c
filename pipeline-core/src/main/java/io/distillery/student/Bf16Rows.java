package io.distillery.student;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * bfloat16 rows summed with the Vector API: a lane's 16 bits, shifted into the top of an int, are its float. Loaded
 * only when the JVM has {@code jdk.incubator.vector} ({@link RowTable#of}).
 */
final class Bf16Rows extends RowTable {
  private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Integer> INTS = VectorSpecies.of(int.class, FLOATS.vectorShape());
  private static final VectorSpecies<Short> SHORTS = VectorSpecies.of(short.class,
      VectorShape.forBitSize(FLOATS.vectorBitSize() / 2));

  private final short[][] rows;

  Bf16Rows(short[][] rows) {
    this.rows = rows;
  }

  /**
   * Whether this JVM's preferred vectors are wide enough to pay: with fewer than eight float lanes (no AVX) the
   * widening is not worth the Vector API's fallback risk, and the float path stays.
   */
  static boolean supported() {
    return FLOATS.length() >= 8;
  }

  @Override
  int size() {
    return rows.length;
  }

  @Override
  float[] row(int r) {
    return widened(new short[][] {rows[r]})[0];
  }

  private static FloatVector widen(short[] row, int d) {
    return ((IntVector) ShortVector.fromArray(SHORTS, row, d).convertShape(VectorOperators.S2I, INTS, 0))
        .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
  }

  private static float widen(short bits) {
    return Float.intBitsToFloat(bits << 16);
  }

  @Override
  void addRows(int[] ids, float[] sum) {
    int width = sum.length;
    int bound = FLOATS.loopBound(width);
    int step = FLOATS.length();
    int r = 0;
    for (; r + 4 <= ids.length; r += 4) {
      short[] a = rows[ids[r]];
      short[] b = rows[ids[r + 1]];
      short[] c = rows[ids[r + 2]];
      short[] e = rows[ids[r + 3]];
      int d = 0;
      for (; d < bound; d += step) {
        FloatVector four = widen(a, d).add(widen(b, d)).add(widen(c, d).add(widen(e, d)));
        FloatVector.fromArray(FLOATS, sum, d).add(four).intoArray(sum, d);
      }
      for (; d < width; d++) {
        sum[d] += (widen(a[d]) + widen(b[d])) + (widen(c[d]) + widen(e[d]));
      }
    }
    for (; r < ids.length; r++) {
      short[] row = rows[ids[r]];
      int d = 0;
      for (; d < bound; d += step) {
        FloatVector.fromArray(FLOATS, sum, d).add(widen(row, d)).intoArray(sum, d);
      }
      for (; d < width; d++) {
        sum[d] += widen(row[d]);
      }
    }
  }

  @Override
  void addScaled(int[] ids, float[] weights, int n, float[] out) {
    int width = out.length;
    int bound = FLOATS.loopBound(width);
    int step = FLOATS.length();
    int i = 0;
    for (; i + 2 <= n; i += 2) {
      float a = weights[i];
      float b = weights[i + 1];
      short[] x = rows[ids[i]];
      short[] y = rows[ids[i + 1]];
      int d = 0;
      for (; d < bound; d += step) {
        FloatVector two = widen(x, d).mul(a).add(widen(y, d).mul(b));
        FloatVector.fromArray(FLOATS, out, d).add(two).intoArray(out, d);
      }
      for (; d < width; d++) {
        out[d] += a * widen(x[d]) + b * widen(y[d]);
      }
    }
    if (i < n) {
      float a = weights[i];
      short[] x = rows[ids[i]];
      int d = 0;
      for (; d < bound; d += step) {
        FloatVector.fromArray(FLOATS, out, d).add(widen(x, d).mul(a)).intoArray(out, d);
      }
      for (; d < width; d++) {
        out[d] += a * widen(x[d]);
      }
    }
  }
}
