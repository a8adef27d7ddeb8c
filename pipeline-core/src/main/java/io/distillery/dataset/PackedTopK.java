package io.distillery.dataset;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A completion's per-position top-k alternatives in one binary column: for each position, k token ids as unsigned
 * 16-bit integers, then their log-probabilities as unsigned 16-bit fixed point ({@value #STEPS_PER_NAT} steps a nat
 * below 0, so within 1/{@value #HALF_STEP} nat of the value, down to -{@value #FLOOR_NATS} nats, where smaller
 * ones are clamped). Little-endian; 4 bytes per alternative, 4·k per generated token.
 */
public final class PackedTopK {
  public static final int STEPS_PER_NAT = 1024;
  static final int HALF_STEP = 2 * STEPS_PER_NAT;
  public static final int FLOOR_NATS = 63;

  private PackedTopK() {}

  /** Bytes a position takes for {@code k} alternatives. */
  public static int bytesPerPosition(int k) {
    return 4 * k;
  }

  /** Packs positions of exactly {@code k} alternatives each. */
  public static byte[] pack(int[][] ids, float[][] logprobs, int k) {
    ByteBuffer out = ByteBuffer.allocate(ids.length * bytesPerPosition(k)).order(ByteOrder.LITTLE_ENDIAN);
    for (int p = 0; p < ids.length; p++) {
      if (ids[p].length != k || logprobs[p].length != k) {
        throw new IllegalArgumentException("position " + p + " has " + ids[p].length + " ids and "
            + logprobs[p].length + " log-probabilities, not " + k);
      }
      for (int id : ids[p]) {
        out.putShort(PackedTokens.idBits(id));
      }
      for (float lp : logprobs[p]) {
        out.putShort(PackedTokens.logprobBits(lp));
      }
    }
    return out.array();
  }

  /** The ids of every position: [positions][k]. */
  public static int[][] ids(byte[] packed, int k) {
    ByteBuffer in = ByteBuffer.wrap(packed).order(ByteOrder.LITTLE_ENDIAN);
    int positions = positions(packed, k);
    int[][] ids = new int[positions][k];
    for (int p = 0; p < positions; p++) {
      int at = p * bytesPerPosition(k);
      for (int i = 0; i < k; i++) {
        ids[p][i] = Short.toUnsignedInt(in.getShort(at + 2 * i));
      }
    }
    return ids;
  }

  /** The log-probabilities of every position: [positions][k]. */
  public static float[][] logprobs(byte[] packed, int k) {
    ByteBuffer in = ByteBuffer.wrap(packed).order(ByteOrder.LITTLE_ENDIAN);
    int positions = positions(packed, k);
    float[][] logprobs = new float[positions][k];
    for (int p = 0; p < positions; p++) {
      int at = p * bytesPerPosition(k) + 2 * k;
      for (int i = 0; i < k; i++) {
        logprobs[p][i] = PackedTokens.logprob(in.getShort(at + 2 * i));
      }
    }
    return logprobs;
  }

  private static int positions(byte[] packed, int k) {
    if (packed.length % bytesPerPosition(k) != 0) {
      throw new IllegalArgumentException(packed.length + " bytes are not whole positions of " + k + " alternatives");
    }
    return packed.length / bytesPerPosition(k);
  }
}
