package io.distillery.student;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The folded student's rows, one vector per student row, summed for a sentence. In {@link Precision#BF16} a row is
 * stored as bfloat16 (half the bytes a sentence's sum reads: the sum is bound by memory, not arithmetic) and widened
 * with the JDK's Vector API when the JVM has {@code jdk.incubator.vector} (conf/jvm.properties adds it); without it
 * the same rounded values are kept as floats and summed in the same order, so both give the same sums.
 */
abstract class RowTable {
  private static final Logger LOG = LoggerFactory.getLogger(RowTable.class);

  /** How the folded rows are stored. */
  enum Precision {
    /** The network's floats: the folded student equals DL4J's forward pass to float rounding. */
    FLOAT,
    /** Rounded to bfloat16 (8 significant bits, unit roundoff 2^-8): the inference default. */
    BF16
  }

  private static final boolean VECTOR = vectorAvailable();

  private static boolean vectorAvailable() {
    if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
      LOG.info("jdk.incubator.vector is not in this JVM (conf/jvm.properties adds it): the student sums its bfloat16 "
          + "rows as floats, the same embeddings at the speed of a float table (bench/README.md)");
      return false;
    }
    return Bf16Rows.supported();
  }

  static RowTable of(float[][] rows, Precision precision) {
    if (precision == Precision.FLOAT) {
      return new FloatRows(rows);
    }
    short[][] rounded = new short[rows.length][];
    for (int r = 0; r < rows.length; r++) {
      rounded[r] = new short[rows[r].length];
      for (int d = 0; d < rows[r].length; d++) {
        rounded[r][d] = bf16(rows[r][d]);
      }
    }
    return VECTOR ? new Bf16Rows(rounded) : new FloatRows(widened(rounded));
  }

  /** Whether {@link #of} in {@link Precision#BF16} sums with the Vector API in this JVM. */
  static boolean vectorised() {
    return VECTOR;
  }

  /** The rounded rows as floats, for the path without the Vector API (and tests). */
  static float[][] widened(short[][] rows) {
    float[][] out = new float[rows.length][];
    for (int r = 0; r < rows.length; r++) {
      out[r] = new float[rows[r].length];
      for (int d = 0; d < rows[r].length; d++) {
        out[r][d] = Float.intBitsToFloat(rows[r][d] << 16);
      }
    }
    return out;
  }

  /** {@code v} rounded to the nearest bfloat16 (ties to even), as its 16 bits; NaN stays NaN. */
  static short bf16(float v) {
    int bits = Float.floatToRawIntBits(v);
    if (Float.isNaN(v)) {
      return (short) ((bits >>> 16) | 0x40);
    }
    return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
  }

  abstract int size();

  /** Row {@code r} as floats (its stored values, widened). */
  abstract float[] row(int r);

  /**
   * Adds the rows named in {@code rows} into {@code sum}, four at a time as {@code sum += (a + b) + (c + e)}, then one
   * at a time: each pass over {@code sum} loads and stores it once, and with one row per pass those loads and stores,
   * not the adds, bound the loop (bench/README.md). Every layout adds in this order.
   */
  abstract void addRows(int[] rows, float[] sum);

  /**
   * Adds {@code weights[i] * row(ids[i])} for {@code i < n} into {@code out}, two rows at a time as
   * {@code out += a * x + b * y} (for the same reason as {@link #addRows}), then the last alone.
   */
  abstract void addScaled(int[] ids, float[] weights, int n, float[] out);

  /** Float rows: one array per row, since C2 vectorises {@code sum[d] += row[d]} but not a flat table's offsets. */
  static final class FloatRows extends RowTable {
    private final float[][] rows;

    FloatRows(float[][] rows) {
      this.rows = rows;
    }

    @Override
    int size() {
      return rows.length;
    }

    @Override
    float[] row(int r) {
      return rows[r].clone();
    }

    @Override
    void addRows(int[] ids, float[] sum) {
      int width = sum.length;
      int r = 0;
      for (; r + 4 <= ids.length; r += 4) {
        float[] a = rows[ids[r]];
        float[] b = rows[ids[r + 1]];
        float[] c = rows[ids[r + 2]];
        float[] e = rows[ids[r + 3]];
        for (int d = 0; d < width; d++) {
          sum[d] += (a[d] + b[d]) + (c[d] + e[d]);
        }
      }
      for (; r < ids.length; r++) {
        float[] row = rows[ids[r]];
        for (int d = 0; d < width; d++) {
          sum[d] += row[d];
        }
      }
    }

    @Override
    void addScaled(int[] ids, float[] weights, int n, float[] out) {
      int width = out.length;
      int i = 0;
      for (; i + 2 <= n; i += 2) {
        float a = weights[i];
        float b = weights[i + 1];
        float[] x = rows[ids[i]];
        float[] y = rows[ids[i + 1]];
        for (int d = 0; d < width; d++) {
          out[d] += a * x[d] + b * y[d];
        }
      }
      if (i < n) {
        float a = weights[i];
        float[] x = rows[ids[i]];
        for (int d = 0; d < width; d++) {
          out[d] += a * x[d];
        }
      }
    }
  }
}
