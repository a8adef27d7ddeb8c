package io.distillery.teacher.lm;

import io.distillery.util.Hashing;
import java.io.ByteArrayOutputStream;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A SentencePiece-style BPE vocabulary in llama2.c's tokenizer format (per token: a float score, a length, its
 * bytes), encoding and decoding as llama2.c does: a dummy-prefix space, code points looked up whole or as byte
 * tokens ({@code <0xNN>}, id = byte + 3), then merges of the best-scoring adjacent pair until none is left.
 */
public final class Llama2Tokenizer {
  public static final int UNKNOWN = 0;
  public static final int BOS = 1;
  public static final int EOS = 2;
  private static final int BYTE_OFFSET = 3;
  private static final Pattern BYTE_PIECE = Pattern.compile("<0x([0-9A-F]{2})>");

  private final String[] pieces;
  private final float[] scores;
  private final Map<String, Integer> ids = new HashMap<>();

  private Llama2Tokenizer(String[] pieces, float[] scores) {
    this.pieces = pieces;
    this.scores = scores;
    for (int i = 0; i < pieces.length; i++) {
      ids.putIfAbsent(pieces[i], i);
    }
  }

  /**
   * Reads a whole llama2.c tokenizer file, its vocabulary as many tokens as it holds (for a remote teacher, whose
   * model's configuration is not at hand); a file that is not one is an IllegalArgumentException.
   */
  public static Llama2Tokenizer read(byte[] file) {
    ByteBuffer in = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
    List<String> pieces = new ArrayList<>();
    List<Float> scores = new ArrayList<>();
    try {
      int longest = in.getInt();
      while (in.hasRemaining()) {
        float score = in.getFloat();
        int length = in.getInt();
        if (length < 0 || length > longest || length > in.remaining()) {
          throw new IllegalArgumentException("token " + pieces.size() + " claims " + length + " bytes");
        }
        byte[] bytes = new byte[length];
        in.get(bytes);
        scores.add(score);
        pieces.add(new String(bytes, StandardCharsets.UTF_8));
      }
    } catch (BufferUnderflowException e) {
      throw new IllegalArgumentException("not a llama2.c tokenizer file: it ends inside token " + pieces.size(), e);
    }
    if (pieces.size() < 3) {
      throw new IllegalArgumentException("not a llama2.c tokenizer file: " + pieces.size() + " tokens");
    }
    float[] s = new float[scores.size()];
    for (int i = 0; i < s.length; i++) {
      s[i] = scores.get(i);
    }
    return new Llama2Tokenizer(pieces.toArray(String[]::new), s);
  }

  /** Reads llama2.c's tokenizer file for a vocabulary of {@code vocabSize} tokens. */
  public static Llama2Tokenizer read(byte[] file, int vocabSize) {
    ByteBuffer in = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
    in.getInt(); // the longest token's length
    String[] pieces = new String[vocabSize];
    float[] scores = new float[vocabSize];
    for (int i = 0; i < vocabSize; i++) {
      scores[i] = in.getFloat();
      byte[] bytes = new byte[in.getInt()];
      in.get(bytes);
      pieces[i] = new String(bytes, StandardCharsets.UTF_8);
    }
    return new Llama2Tokenizer(pieces, scores);
  }

  public int vocabSize() {
    return pieces.length;
  }

  /** The token's piece as the vocabulary has it (e.g. " there", "<0x0A>"). */
  public String piece(int token) {
    return pieces[token];
  }

  /** The tokens of {@code text}, after a beginning-of-sequence token when {@code bos}. */
  public int[] encode(String text, boolean bos) {
    List<Integer> tokens = new ArrayList<>();
    if (bos) {
      tokens.add(BOS);
    }
    if (!text.isEmpty()) {
      tokens.add(ids.get(" "));
    }
    text.codePoints().forEach(cp -> {
      Integer id = ids.get(new String(Character.toChars(cp)));
      if (id != null) {
        tokens.add(id);
      } else {
        for (byte b : new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8)) {
          tokens.add((b & 0xff) + BYTE_OFFSET);
        }
      }
    });
    while (true) {
      float best = Float.NEGATIVE_INFINITY;
      int bestId = -1;
      int bestAt = -1;
      for (int i = bos ? 1 : 0; i < tokens.size() - 1; i++) {
        Integer merged = ids.get(pieces[tokens.get(i)] + pieces[tokens.get(i + 1)]);
        if (merged != null && scores[merged] > best) {
          best = scores[merged];
          bestId = merged;
          bestAt = i;
        }
      }
      if (bestAt < 0) {
        break;
      }
      tokens.set(bestAt, bestId);
      tokens.remove(bestAt + 1);
    }
    return tokens.stream().mapToInt(Integer::intValue).toArray();
  }

  /**
   * The bytes {@code token} stands for after {@code previous}: its piece, without the leading space after a
   * beginning-of-sequence token, a byte token as its byte.
   */
  public byte[] bytes(int previous, int token) {
    String piece = pieces[token];
    if (previous == BOS && piece.startsWith(" ")) {
      piece = piece.substring(1);
    }
    Matcher m = BYTE_PIECE.matcher(piece);
    if (m.matches()) {
      return new byte[] {(byte) Integer.parseInt(m.group(1), 16)};
    }
    return piece.getBytes(StandardCharsets.UTF_8);
  }

  /** The text of {@code tokens} continuing {@code previous} (BOS for a text of its own). */
  public String decode(int previous, int[] tokens) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int prev = previous;
    for (int t : tokens) {
      out.writeBytes(bytes(prev, t));
      prev = t;
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  /** A fingerprint of the vocabulary (its pieces and scores, in id order), for manifests and student checks. */
  public String fingerprint() {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < pieces.length; i++) {
      sb.append(pieces[i]).append('\u0000').append(Float.floatToIntBits(scores[i])).append('\n');
    }
    return Hashing.sha256Hex(sb.toString());
  }

  @Override
  public String toString() {
    return "Llama2Tokenizer[" + pieces.length + " tokens: " + Arrays.asList(pieces).subList(0, 5) + "...]";
  }
}
