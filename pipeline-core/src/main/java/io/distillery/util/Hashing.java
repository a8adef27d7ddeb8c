package io.distillery.util;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Content hashes used for row ids, request hashes, config hashes and model fingerprints. */
public final class Hashing {
  private Hashing() {}

  public static String sha256Hex(String text) {
    return HexFormat.of().formatHex(sha256().digest(text.getBytes(StandardCharsets.UTF_8)));
  }

  public static String sha256Hex(byte[] bytes) {
    return HexFormat.of().formatHex(sha256().digest(bytes));
  }

  /** Stable fraction in [0, 1) derived from a hex hash, for deterministic splits. */
  public static double unitInterval(String hexHash) {
    return Long.parseUnsignedLong(hexHash.substring(0, 13), 16) / (double) (1L << 52);
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by the Java platform", e);
    }
  }
}
