package io.distillery.teacher.lm;

import io.distillery.util.Softmax;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * A Llama-architecture transformer from a llama2.c checkpoint, run in plain Java: RMSNorm, rotary positions,
 * grouped-query attention with a key-value cache, a SwiGLU feed-forward, and the classifier over the vocabulary. The
 * weights are immutable and shared; each sequence decodes in its own {@link Session}. Written after llama2.c's
 * {@code run.c} (the checkpoint layout and the order of operations), so its outputs are the checkpoint's own.
 * Transcendentals are StrictMath's, so a continuation is bit-for-bit the same in every JVM (see {@link Softmax}).
 */
public final class Llama2Model {
  private static final float EPSILON = 1e-5f;

  /**
   * The checkpoint's header.
   *
   * @param sharedClassifier whether the classifier reuses the token embedding table (a positive vocab_size in the
   *     header)
   */
  public record Config(int dim, int hiddenDim, int layers, int heads, int kvHeads, int vocabSize, int seqLen,
      boolean sharedClassifier) {
    public int headSize() {
      return dim / heads;
    }

    public int kvDim() {
      return dim * kvHeads / heads;
    }
  }

  private final Config config;
  private final float[] tokenEmbedding; // [vocab][dim]
  private final float[][] rmsAttention; // [layer][dim]
  private final float[][] wq; // [layer][dim * dim]
  private final float[][] wk; // [layer][kvDim * dim]
  private final float[][] wv; // [layer][kvDim * dim]
  private final float[][] wo; // [layer][dim * dim]
  private final float[][] rmsFeedForward; // [layer][dim]
  private final float[][] w1; // [layer][hidden * dim]
  private final float[][] w2; // [layer][dim * hidden]
  private final float[][] w3; // [layer][hidden * dim]
  private final float[] rmsFinal; // [dim]
  private final float[] classifier; // [vocab][dim]

  private Llama2Model(Config config, FloatBuffer w) {
    this.config = config;
    int dim = config.dim();
    int kvDim = config.kvDim();
    int hidden = config.hiddenDim();
    int layers = config.layers();
    tokenEmbedding = take(w, config.vocabSize() * dim);
    rmsAttention = take(w, layers, dim);
    wq = take(w, layers, dim * dim);
    wk = take(w, layers, kvDim * dim);
    wv = take(w, layers, kvDim * dim);
    wo = take(w, layers, dim * dim);
    rmsFeedForward = take(w, layers, dim);
    w1 = take(w, layers, hidden * dim);
    w2 = take(w, layers, dim * hidden);
    w3 = take(w, layers, hidden * dim);
    rmsFinal = take(w, dim);
    w.position(w.position() + config.seqLen() * config.headSize()); // the legacy freq_cis_real and freq_cis_imag
    classifier = config.sharedClassifier() ? tokenEmbedding : take(w, config.vocabSize() * dim);
  }

  /** Reads a llama2.c checkpoint: 7 little-endian int32 of header, then the float32 tensors. */
  public static Llama2Model read(byte[] checkpoint) {
    ByteBuffer bytes = ByteBuffer.wrap(checkpoint).order(ByteOrder.LITTLE_ENDIAN);
    int dim = bytes.getInt();
    int hidden = bytes.getInt();
    int layers = bytes.getInt();
    int heads = bytes.getInt();
    int kvHeads = bytes.getInt();
    int vocab = bytes.getInt();
    int seqLen = bytes.getInt();
    Config config = new Config(dim, hidden, layers, heads, kvHeads, Math.abs(vocab), seqLen, vocab > 0);
    if (dim <= 0 || heads <= 0 || dim % heads != 0 || kvHeads <= 0 || heads % kvHeads != 0 || layers <= 0) {
      throw new IllegalArgumentException("Not a llama2.c checkpoint: header " + config);
    }
    long floats = (checkpoint.length - 28L) / Float.BYTES;
    long expected = (long) config.vocabSize() * dim * (config.sharedClassifier() ? 1 : 2)
        + (long) layers * (2L * dim + 2L * dim * dim + 2L * config.kvDim() * dim + 3L * hidden * dim) + dim
        + (long) seqLen * config.headSize();
    if (floats != expected) {
      throw new IllegalArgumentException("A llama2.c checkpoint with header " + config + " holds " + expected
          + " floats, this one " + floats);
    }
    return new Llama2Model(config, bytes.asFloatBuffer());
  }

  public Config config() {
    return config;
  }

  /** A new sequence, decoded from position 0. Not thread-safe; the model is. */
  public Session session() {
    return new Session();
  }

  /** One sequence's key-value cache and scratch buffers. */
  public final class Session {
    private final float[] x = new float[config.dim()];
    private final float[] xb = new float[config.dim()];
    private final float[] xb2 = new float[config.dim()];
    private final float[] hb = new float[config.hiddenDim()];
    private final float[] hb2 = new float[config.hiddenDim()];
    private final float[] q = new float[config.dim()];
    private final float[] att = new float[config.seqLen()];
    private final float[] logits = new float[config.vocabSize()];
    private final float[][] keys = new float[config.layers()][config.seqLen() * config.kvDim()];
    private final float[][] values = new float[config.layers()][config.seqLen() * config.kvDim()];
    private int position;

    private Session() {}

    /** Tokens decoded so far. */
    public int position() {
      return position;
    }

    /**
     * Feeds the next token of the sequence and returns the logits over the vocabulary for the token after it (a
     * buffer this session reuses: copy what must outlive the next call).
     */
    public float[] next(int token) {
      if (position >= config.seqLen()) {
        throw new IllegalStateException("The sequence is at the model's context of " + config.seqLen() + " tokens");
      }
      if (token < 0 || token >= config.vocabSize()) {
        throw new IllegalArgumentException("token " + token + " is outside the vocabulary of " + config.vocabSize());
      }
      int dim = config.dim();
      int kvDim = config.kvDim();
      int headSize = config.headSize();
      int kvMul = config.heads() / config.kvHeads();
      int pos = position;
      System.arraycopy(tokenEmbedding, token * dim, x, 0, dim);
      for (int l = 0; l < config.layers(); l++) {
        rmsNorm(xb, x, rmsAttention[l]);
        int cache = pos * kvDim;
        matmul(q, 0, xb, wq[l], dim, dim);
        matmul(keys[l], cache, xb, wk[l], dim, kvDim);
        matmul(values[l], cache, xb, wv[l], dim, kvDim);
        rotate(q, 0, dim, pos, headSize);
        rotate(keys[l], cache, kvDim, pos, headSize);
        for (int h = 0; h < config.heads(); h++) {
          int qh = h * headSize;
          int kh = (h / kvMul) * headSize;
          float scale = (float) (1.0 / StrictMath.sqrt(headSize));
          for (int t = 0; t <= pos; t++) {
            float score = 0;
            int k = t * kvDim + kh;
            for (int i = 0; i < headSize; i++) {
              score += q[qh + i] * keys[l][k + i];
            }
            att[t] = score * scale;
          }
          Softmax.inPlace(att, pos + 1);
          for (int i = 0; i < headSize; i++) {
            xb[qh + i] = 0;
          }
          for (int t = 0; t <= pos; t++) {
            int v = t * kvDim + kh;
            float a = att[t];
            for (int i = 0; i < headSize; i++) {
              xb[qh + i] += a * values[l][v + i];
            }
          }
        }
        matmul(xb2, 0, xb, wo[l], dim, dim);
        for (int i = 0; i < dim; i++) {
          x[i] += xb2[i];
        }
        rmsNorm(xb, x, rmsFeedForward[l]);
        matmul(hb, 0, xb, w1[l], dim, config.hiddenDim());
        matmul(hb2, 0, xb, w3[l], dim, config.hiddenDim());
        for (int i = 0; i < config.hiddenDim(); i++) {
          float v = hb[i];
          hb[i] = v * (float) (1.0 / (1.0 + StrictMath.exp(-v))) * hb2[i]; // SwiGLU: silu(w1 x) * w3 x
        }
        matmul(xb, 0, hb, w2[l], config.hiddenDim(), dim);
        for (int i = 0; i < dim; i++) {
          x[i] += xb[i];
        }
      }
      rmsNorm(x, x, rmsFinal);
      matmul(logits, 0, x, classifier, dim, config.vocabSize());
      position++;
      return logits;
    }
  }

  /** out[offset + i] = sum_j w[i * n + j] * x[j], for i < d. */
  private static void matmul(float[] out, int offset, float[] x, float[] w, int n, int d) {
    for (int i = 0; i < d; i++) {
      float sum = 0;
      int row = i * n;
      for (int j = 0; j < n; j++) {
        sum += w[row + j] * x[j];
      }
      out[offset + i] = sum;
    }
  }

  private static void rmsNorm(float[] out, float[] x, float[] weight) {
    float ss = 0;
    for (float v : x) {
      ss += v * v;
    }
    ss = (float) (1.0 / StrictMath.sqrt(ss / x.length + EPSILON));
    for (int i = 0; i < x.length; i++) {
      out[i] = weight[i] * (ss * x[i]);
    }
  }

  /** Rotary position embedding of the {@code length} values at {@code offset}, pairwise within each head. */
  private static void rotate(float[] v, int offset, int length, int pos, int headSize) {
    for (int i = 0; i < length; i += 2) {
      int headDim = i % headSize;
      float frequency = (float) (1.0 / StrictMath.pow(10000.0f, headDim / (float) headSize));
      float angle = pos * frequency;
      float cos = (float) StrictMath.cos(angle);
      float sin = (float) StrictMath.sin(angle);
      float v0 = v[offset + i];
      float v1 = v[offset + i + 1];
      v[offset + i] = v0 * cos - v1 * sin;
      v[offset + i + 1] = v0 * sin + v1 * cos;
    }
  }

  private static float[] take(FloatBuffer w, int n) {
    float[] out = new float[n];
    w.get(out);
    return out;
  }

  private static float[][] take(FloatBuffer w, int layers, int n) {
    float[][] out = new float[layers][];
    for (int l = 0; l < layers; l++) {
      out[l] = take(w, n);
    }
    return out;
  }
}
