package io.distillery.teacher;

import io.distillery.settings.Settings.Sampling;
import io.distillery.teacher.lm.Llama2Tokenizer;
import io.distillery.util.Softmax;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.IntFunction;

/**
 * Autoregressive decoding of any language model that reads one token at a time and answers the next token's logits:
 * greedy at temperature 0, else seeded temperature, top-k and top-p sampling, stop texts, and per position the
 * model's own top-k log-probabilities (temperature 1). The teacher and its student decode with this same loop, so a
 * sample from each with the same seed differs only by the models.
 */
public final class Decoding {
  private Decoding() {}

  /**
   * @param context the model's context length in tokens (the prompt's included)
   * @param step a fresh session of the model: feeds one token, answers the next token's logits
   */
  public static Completion complete(Llama2Tokenizer tokenizer, int context, IntFunction<float[]> step,
      String prompt, Sampling sampling, int k) {
    int[] ids = tokenizer.encode(prompt, true);
    int room = context - ids.length;
    if (room < 1) {
      throw new IllegalArgumentException("The prompt takes " + ids.length + " tokens, the model's whole context of "
          + context);
    }
    float[] logits = null;
    for (int id : ids) {
      logits = step.apply(id);
    }
    SplittableRandom random = new SplittableRandom(sampling.seed());
    int steps = Math.min(sampling.maxTokens(), room);
    int[] tokens = new int[steps];
    float[] tokenLogprobs = new float[steps];
    int[][] topIds = new int[steps][];
    float[][] topLogprobs = new float[steps][];
    ByteArrayOutputStream text = new ByteArrayOutputStream();
    int previous = ids[ids.length - 1];
    int n = 0;
    Completion.Finish finish = Completion.Finish.LENGTH;
    while (n < steps) {
      float[] logprobs = Softmax.log(logits);
      int token = sampling.temperature() == 0 ? argmax(logprobs) : sample(logits, sampling, random);
      if (token == Llama2Tokenizer.EOS || token == Llama2Tokenizer.BOS) {
        finish = Completion.Finish.STOP;
        break;
      }
      int[] top = topK(logprobs, k);
      topIds[n] = top;
      topLogprobs[n] = new float[top.length];
      for (int i = 0; i < top.length; i++) {
        topLogprobs[n][i] = logprobs[top[i]];
      }
      tokenLogprobs[n] = logprobs[token];
      tokens[n++] = token;
      text.writeBytes(tokenizer.bytes(previous, token));
      previous = token;
      String sofar = text.toString(StandardCharsets.UTF_8);
      int cut = stopAt(sofar, sampling);
      if (cut >= 0) {
        return new Completion(sofar.substring(0, cut), Arrays.copyOf(tokens, n), Arrays.copyOf(tokenLogprobs, n),
            Arrays.copyOf(topIds, n), Arrays.copyOf(topLogprobs, n), Completion.Finish.STOP, ids.length, sampling);
      }
      if (n < steps) {
        logits = step.apply(token);
      }
    }
    return new Completion(text.toString(StandardCharsets.UTF_8), Arrays.copyOf(tokens, n),
        Arrays.copyOf(tokenLogprobs, n), Arrays.copyOf(topIds, n), Arrays.copyOf(topLogprobs, n), finish, ids.length,
        sampling);
  }

  /** Where the first stop text starts in {@code text}, or -1. */
  private static int stopAt(String text, Sampling sampling) {
    int cut = -1;
    for (String stop : sampling.stop()) {
      int at = stop.isEmpty() ? -1 : text.indexOf(stop);
      if (at >= 0 && (cut < 0 || at < cut)) {
        cut = at;
      }
    }
    return cut;
  }

  private static int argmax(float[] v) {
    int best = 0;
    for (int i = 1; i < v.length; i++) {
      best = v[i] > v[best] ? i : best;
    }
    return best;
  }

  /**
   * The k largest values' indices, largest first (ties: the smaller index first). Twice per generated token, over
   * the whole vocabulary: a small k is kept by insertion in one pass, a large one by one sort of primitive keys.
   */
  static int[] topK(float[] v, int k) {
    int n = Math.min(k, v.length);
    if (n * 8 > v.length) {
      return sortedIndices(v, n);
    }
    int[] top = new int[n];
    int size = 0;
    for (int i = 0; i < v.length && n > 0; i++) {
      float x = v[i];
      if (size == n && !(x > v[top[n - 1]])) {
        continue;
      }
      int at = size < n ? size++ : n - 1;
      while (at > 0 && x > v[top[at - 1]]) {
        top[at] = top[at - 1];
        at--;
      }
      top[at] = i;
    }
    return top;
  }

  /** The n largest values' indices by one sort of (value descending, index) keys packed into longs. */
  private static int[] sortedIndices(float[] v, int n) {
    long[] keys = new long[v.length];
    for (int i = 0; i < v.length; i++) {
      int bits = Float.floatToIntBits(v[i] == 0 ? 0f : v[i]); // -0 ties with 0, as it compares
      int ascending = bits ^ ((bits >> 31) & 0x7fffffff); // orders as the floats do
      keys[i] = ((long) ~ascending << 32) | i;
    }
    Arrays.sort(keys);
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      out[i] = (int) keys[i];
    }
    return out;
  }

  /** A token drawn from softmax(logits / temperature), cut to the top-p nucleus. */
  private static int sample(float[] logits, Sampling sampling, SplittableRandom random) {
    float[] p = new float[logits.length];
    for (int i = 0; i < p.length; i++) {
      p[i] = (float) (logits[i] / sampling.temperature());
    }
    Softmax.inPlace(p, p.length);
    int[] order = topK(p, p.length);
    int most = sampling.topK() > 0 ? Math.min(sampling.topK(), order.length) : order.length;
    double mass = 0;
    int keep = 0;
    while (keep < most && (keep == 0 || mass < sampling.topP())) {
      mass += p[order[keep++]];
    }
    double r = random.nextDouble() * mass;
    for (int i = 0; i < keep; i++) {
      r -= p[order[i]];
      if (r <= 0) {
        return order[i];
      }
    }
    return order[keep - 1];
  }
}
