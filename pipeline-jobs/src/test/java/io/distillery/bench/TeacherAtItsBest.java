package io.distillery.bench;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.distillery.settings.Settings;
import io.distillery.tokenizer.Tokenizer;
import io.distillery.util.Resources;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;

/**
 * The ONNX teacher at its best on this machine, for a fair speed comparison: generate runs it one input at a time
 * on one intra-op thread per task (bit-stable answers); here it may also pad length-sorted batches and use
 * intra-op threads. Each variant runs the same texts on the same cores: tokenize, encode, mean-pool.
 */
final class TeacherAtItsBest {
  /** A way of running the teacher: threads calling it at once, intra-op threads per call, inputs per call. */
  record Variant(int callers, int intraOpThreads, int batch) {
    String label() {
      return String.format("%d caller%s x %d intra-op, batch %d", callers, callers > 1 ? "s" : "", intraOpThreads,
          batch);
    }
  }

  private TeacherAtItsBest() {}

  /** The variants tried on {@code cores} cores. */
  static List<Variant> variants(int cores) {
    return List.of(new Variant(cores, 1, 1), new Variant(1, cores, 1), new Variant(cores, 1, 32),
        new Variant(1, cores, 32), new Variant(cores, 1, 8));
  }

  /** Embeddings per second of each variant, best of {@code rounds} rounds run alternately, in variant order. */
  static double[] measure(Settings.Teacher spec, List<String> texts, int cores, int rounds) throws Exception {
    byte[] model = Resources.readAll(spec.model());
    Tokenizer tokenizer = Tokenizer.open(spec.tokenizer(), spec.maxTokens());
    List<Encoding> encodings = texts.stream().map(tokenizer::encodeForModel).toList();
    // Shortest first: a batch pads to its longest input, so sorted batches pad least.
    List<Encoding> sorted = new ArrayList<>(encodings);
    sorted.sort(Comparator.comparingInt(e -> e.getIds().length));
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    List<Variant> variants = variants(cores);
    double[] best = new double[variants.size()];
    Map<Integer, OrtSession> sessions = new HashMap<>();
    try {
      for (int round = 0; round <= rounds; round++) { // round 0 warms each session up
        for (int v = 0; v < variants.size(); v++) {
          Variant variant = variants.get(v);
          OrtSession session = sessions.computeIfAbsent(variant.intraOpThreads(), n -> open(env, model, n));
          List<Encoding> inputs = variant.batch() > 1 ? sorted : encodings;
          List<Encoding> timed = round == 0 ? inputs.subList(0, Math.min(64, inputs.size())) : inputs;
          long start = System.nanoTime();
          run(env, session, timed, variant);
          double rate = timed.size() / ((System.nanoTime() - start) / 1e9);
          best[v] = round == 0 ? 0 : Math.max(best[v], rate);
        }
      }
    } finally {
      for (OrtSession s : sessions.values()) {
        s.close();
      }
      tokenizer.close();
    }
    return best;
  }

  private static OrtSession open(OrtEnvironment env, byte[] model, int intraOpThreads) {
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setIntraOpNumThreads(intraOpThreads);
      options.setInterOpNumThreads(1);
      options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      return env.createSession(model, options);
    } catch (Exception e) {
      throw new IllegalStateException("Cannot open the teacher's ONNX session", e);
    }
  }

  /** Every input once, in batches of the variant's size handed out to its callers in turn. */
  private static void run(OrtEnvironment env, OrtSession session, List<Encoding> inputs, Variant variant)
      throws Exception {
    int batches = (inputs.size() + variant.batch() - 1) / variant.batch();
    ExecutorService pool = Executors.newFixedThreadPool(variant.callers());
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int c = 0; c < variant.callers(); c++) {
        int caller = c;
        futures.add(pool.submit(() -> {
          for (int b = caller; b < batches; b += variant.callers()) {
            embed(env, session, inputs.subList(b * variant.batch(),
                Math.min(inputs.size(), (b + 1) * variant.batch())));
          }
          return null;
        }));
      }
      for (Future<?> f : futures) {
        f.get();
      }
    } finally {
      pool.shutdown();
    }
  }

  /** One padded batch through the encoder, mean-pooled over each input's tokens. */
  private static float[][] embed(OrtEnvironment env, OrtSession session, List<Encoding> batch) throws Exception {
    int length = batch.stream().mapToInt(e -> e.getIds().length).max().orElse(0);
    long[][] ids = new long[batch.size()][length];
    long[][] mask = new long[batch.size()][length];
    long[][] types = new long[batch.size()][length];
    for (int i = 0; i < batch.size(); i++) {
      long[] in = batch.get(i).getIds();
      System.arraycopy(in, 0, ids[i], 0, in.length);
      System.arraycopy(batch.get(i).getAttentionMask(), 0, mask[i], 0, in.length);
    }
    Map<String, OnnxTensor> tensors = new HashMap<>();
    try {
      tensors.put("input_ids", OnnxTensor.createTensor(env, ids));
      tensors.put("attention_mask", OnnxTensor.createTensor(env, mask));
      if (session.getInputNames().contains("token_type_ids")) {
        tensors.put("token_type_ids", OnnxTensor.createTensor(env, types));
      }
      try (OrtSession.Result result = session.run(tensors)) {
        OnnxTensor hidden = (OnnxTensor) result.get(0);
        int dim = (int) hidden.getInfo().getShape()[2];
        FloatBuffer states = hidden.getFloatBuffer();
        return IntStream.range(0, batch.size()).mapToObj(i -> {
          float[] out = new float[dim];
          for (int t = 0; t < length; t++) {
            if (mask[i][t] != 0) {
              int offset = (i * length + t) * dim;
              for (int d = 0; d < dim; d++) {
                out[d] += states.get(offset + d);
              }
            }
          }
          return out;
        }).toArray(float[][]::new);
      }
    } finally {
      tensors.values().forEach(OnnxTensor::close);
    }
  }
}
