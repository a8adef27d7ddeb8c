package io.distillery.dataset;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A completion's tokens and their log-probabilities in binary columns: ids as unsigned 16-bit integers,
 * log-probabilities in {@link PackedTopK}'s fixed point (1/{@value PackedTopK#STEPS_PER_NAT} nat steps below 0, down
 * to -{@value PackedTopK#FLOOR_NATS}). Little-endian; 2 bytes a token each.
 */
public final class PackedTokens {
  static final int MAX_ID = 0xFFFF;

  private PackedTokens() {}

  public static byte[] packIds(int[] ids) {
    ByteBuffer out = ByteBuffer.allocate(2 * ids.length).order(ByteOrder.LITTLE_ENDIAN);
    for (int id : ids) {
      out.putShort(idBits(id));
    }
    return out.array();
  }

  public static int[] ids(byte[] packed) {
    ByteBuffer in = buffer(packed);
    int[] ids = new int[packed.length / 2];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = Short.toUnsignedInt(in.getShort(2 * i));
    }
    return ids;
  }

  public static byte[] packLogprobs(float[] logprobs) {
    ByteBuffer out = ByteBuffer.allocate(2 * logprobs.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float lp : logprobs) {
      out.putShort(logprobBits(lp));
    }
    return out.array();
  }

  public static float[] logprobs(byte[] packed) {
    ByteBuffer in = buffer(packed);
    float[] logprobs = new float[packed.length / 2];
    for (int i = 0; i < logprobs.length; i++) {
      logprobs[i] = logprob(in.getShort(2 * i));
    }
    return logprobs;
  }

  static short idBits(int id) {
    if (id < 0 || id > MAX_ID) {
      throw new IllegalArgumentException("token id " + id + " does not fit 16 bits (vocabularies up to "
          + (MAX_ID + 1) + " tokens are packed)");
    }
    return (short) id;
  }

  static short logprobBits(float logprob) {
    double steps = Math.rint(-Math.min(0, logprob) * PackedTopK.STEPS_PER_NAT);
    return (short) (int) Math.min(steps, (double) PackedTopK.FLOOR_NATS * PackedTopK.STEPS_PER_NAT);
  }

  static float logprob(short bits) {
    return -Short.toUnsignedInt(bits) / (float) PackedTopK.STEPS_PER_NAT;
  }

  private static ByteBuffer buffer(byte[] packed) {
    if (packed.length % 2 != 0) {
      throw new IllegalArgumentException(packed.length + " bytes are not whole 16-bit values");
    }
    return ByteBuffer.wrap(packed).order(ByteOrder.LITTLE_ENDIAN);
  }
}
