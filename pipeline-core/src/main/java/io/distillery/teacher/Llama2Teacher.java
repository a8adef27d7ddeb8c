package io.distillery.teacher;

import io.distillery.provenance.TeacherIdentity;
import io.distillery.settings.Settings;
import io.distillery.settings.Settings.Sampling;
import io.distillery.teacher.lm.Llama2Model;
import io.distillery.teacher.lm.Llama2Tokenizer;
import io.distillery.util.Hashing;
import io.distillery.util.JvmShared;
import io.distillery.util.Resources;
import io.distillery.util.Softmax;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A llama2.c checkpoint as an in-process language-model teacher ({@code teacher.model} the checkpoint,
 * {@code teacher.tokenizer} its tokenizer file). Completions are reproducible: greedy at temperature 0, else sampled
 * with the request's seed. The reported log-probabilities are the model's own (temperature 1), whatever the sampling.
 * One per executor JVM ({@link #shared}); each completion decodes in a session of its own, so it is thread-safe.
 */
public final class Llama2Teacher implements LanguageModelTeacher {
  private static final Logger LOG = LoggerFactory.getLogger(Llama2Teacher.class);

  private final Llama2Model model;
  private final Llama2Tokenizer tokenizer;
  private final TeacherIdentity identity;
  private final long modelBytes;

  private Llama2Teacher(Llama2Model model, Llama2Tokenizer tokenizer, TeacherIdentity identity, long modelBytes) {
    this.model = model;
    this.tokenizer = tokenizer;
    this.identity = identity;
    this.modelBytes = modelBytes;
  }

  /** The executor JVM's one instance for this spec. */
  public static Llama2Teacher shared(Settings.Teacher spec) {
    return JvmShared.get(spec, () -> open(spec));
  }

  public static Llama2Teacher open(Settings.Teacher spec) {
    byte[] checkpoint = Resources.readAll(spec.model());
    Llama2Model model;
    try {
      model = Llama2Model.read(checkpoint);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(Settings.Teacher.MODEL.is(spec.model()) + " is not a llama2.c checkpoint: "
          + e.getMessage(), e);
    }
    Llama2Tokenizer tokenizer = Llama2Tokenizer.read(Resources.readAll(spec.tokenizer()), model.config().vocabSize());
    LOG.info("Language-model teacher {} loaded: {} ({} bytes)", spec.name(), model.config(), checkpoint.length);
    return new Llama2Teacher(model, tokenizer, TeacherIdentity.of(spec, Hashing.sha256Hex(checkpoint)),
        checkpoint.length);
  }

  public Llama2Model model() {
    return model;
  }

  public Llama2Tokenizer tokenizer() {
    return tokenizer;
  }

  @Override
  public TeacherIdentity identity() {
    return identity;
  }

  @Override
  public long modelBytes() {
    return modelBytes;
  }

  @Override
  public int vocabSize() {
    return model.config().vocabSize();
  }

  @Override
  public String tokenizerFingerprint() {
    return tokenizer.fingerprint();
  }

  @Override
  public Completion complete(String prompt, Sampling sampling, int k) {
    int[] ids = tokenizer.encode(prompt, true);
    int room = model.config().seqLen() - ids.length;
    if (room < 1) {
      throw new IllegalArgumentException("The prompt takes " + ids.length + " tokens, the model's whole context of "
          + model.config().seqLen());
    }
    Llama2Model.Session session = model.session();
    float[] logits = null;
    for (int id : ids) {
      logits = session.next(id);
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
        logits = session.next(token);
      }
    }
    return new Completion(text.toString(StandardCharsets.UTF_8), Arrays.copyOf(tokens, n),
        Arrays.copyOf(tokenLogprobs, n), Arrays.copyOf(topIds, n), Arrays.copyOf(topLogprobs, n), finish, ids.length,
        sampling);
  }

  @Override
  public void close() {
    // Nothing native: the weights are heap arrays.
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

  /** The k largest values' indices, largest first (ties: the smaller index first). */
  static int[] topK(float[] v, int k) {
    return IntStream.range(0, v.length).boxed()
        .sorted((a, b) -> v[a] != v[b] ? Float.compare(v[b], v[a]) : Integer.compare(a, b))
        .limit(Math.min(k, v.length)).mapToInt(Integer::intValue).toArray();
  }

  /** A token drawn from softmax(logits / temperature), cut to the top-p nucleus. */
  private static int sample(float[] logits, Sampling sampling, SplittableRandom random) {
    float[] p = new float[logits.length];
    for (int i = 0; i < p.length; i++) {
      p[i] = (float) (logits[i] / sampling.temperature());
    }
    Softmax.inPlace(p, p.length);
    int[] order = topK(p, p.length);
    double mass = 0;
    int keep = 0;
    while (keep < order.length && (keep == 0 || mass < sampling.topP())) {
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
