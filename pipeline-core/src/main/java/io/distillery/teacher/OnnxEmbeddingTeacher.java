package io.distillery.teacher;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import io.distillery.provenance.TeacherIdentity;
import io.distillery.settings.DeviceKind;
import io.distillery.settings.DeviceUnavailableException;
import io.distillery.settings.Settings;
import io.distillery.tokenizer.Tokenizer;
import io.distillery.util.AssignedGpus;
import io.distillery.util.Hashing;
import io.distillery.util.JvmShared;
import io.distillery.util.Resources;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A sentence-embedding transformer (e.g. all-MiniLM-L6-v2) run in-process with ONNX Runtime:
 * tokenize, run the encoder, mean-pool the last hidden state over the attention mask, L2-normalise.
 *
 * <p>Inputs are run one at a time: padded batches shift the quantized model's outputs (bench/README.md), while batch
 * size 1 is bit-stable, so every row's answer is reproducible. The session is
 * thread-safe and shared by every task of an executor JVM ({@link #shared}).
 */
public final class OnnxEmbeddingTeacher implements ContextualEmbeddingTeacher {
  private static final Logger LOG = LoggerFactory.getLogger(OnnxEmbeddingTeacher.class);

  private final OrtEnvironment env;
  private final OrtSession session;
  private final Tokenizer tokenizer;
  private final TeacherIdentity identity;
  private final int dimension;
  private final long modelBytes;
  private final boolean needsTokenTypes;
  private final long[] specialIds; // what the tokenizer puts around a text, e.g. [CLS] ... [SEP]
  private final String device;

  private OnnxEmbeddingTeacher(OrtEnvironment env, OrtSession session, Tokenizer tokenizer,
      TeacherIdentity identity, int dimension, long modelBytes, String device) {
    this.env = env;
    this.session = session;
    this.tokenizer = tokenizer;
    this.identity = identity;
    this.dimension = dimension;
    this.modelBytes = modelBytes;
    this.needsTokenTypes = session.getInputNames().contains("token_type_ids");
    this.specialIds = tokenizer.encodeForModel("").getIds();
    this.device = device;
  }

  /** The executor JVM's one instance for this spec. */
  public static OnnxEmbeddingTeacher shared(Settings.Teacher spec) {
    return JvmShared.get(spec, () -> open(spec));
  }

  public static OnnxEmbeddingTeacher open(Settings.Teacher spec) {
    long start = System.nanoTime();
    byte[] model = Resources.readAll(spec.model());
    Tokenizer tokenizer = Tokenizer.open(spec.tokenizer(), spec.maxTokens());
    try {
      OrtEnvironment env = OrtEnvironment.getEnvironment();
      Placed placed = place(env, model, spec);
      TeacherIdentity identity = TeacherIdentity.of(spec, Hashing.sha256Hex(model));
      OnnxEmbeddingTeacher probe = new OnnxEmbeddingTeacher(env, placed.session(), tokenizer, identity, 0,
          model.length, placed.device());
      int dim = probe.rawEmbed("dimension probe").length;
      LOG.info("Teacher {} loaded on {} ({} bytes, sha256 {}, dim {}) in {} ms", spec.name(), placed.device(),
          model.length, identity.modelSha256(), dim, (System.nanoTime() - start) / 1_000_000);
      return new OnnxEmbeddingTeacher(env, placed.session(), tokenizer, identity, dim, model.length, placed.device());
    } catch (OrtException e) {
      tokenizer.close();
      throw new IllegalStateException("Cannot load ONNX teacher model " + spec.model(), e);
    }
  }

  /**
   * Checks, without loading the model, that this JVM's ONNX Runtime can run the teacher where teacher.device says:
   * the driver's check before generate sends anything (the build decides whether the CUDA execution provider
   * exists; whether a GPU answers shows on the executors).
   *
   * @throws DeviceUnavailableException set to GPUs, a build without the CUDA provider, no fallback
   */
  public static void checkDevice(Settings.Teacher spec) {
    if (spec.device().kind() == DeviceKind.GPU && !OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA)) {
      unavailable(spec, noCudaProvider());
    }
  }

  private record Placed(OrtSession session, String device) {}

  /** The session on the GPU teacher.device asks for (the executor's assigned one), or on the CPU. */
  private static Placed place(OrtEnvironment env, byte[] model, Settings.Teacher spec) throws OrtException {
    if (spec.device().kind() == DeviceKind.GPU) {
      int gpu = AssignedGpus.sessionDevice();
      if (!OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA)) {
        unavailable(spec, noCudaProvider());
      } else {
        try (OrtSession.SessionOptions options = options(spec)) {
          options.addCUDA(gpu);
          return new Placed(env.createSession(model, options), "cuda:" + gpu);
        } catch (OrtException e) {
          unavailable(spec, "ONNX Runtime's CUDA execution provider failed on device " + gpu + " (" + e.getMessage()
              + "; check the NVIDIA driver, and CUDA 12 and cuDNN 9 on the library path)");
        }
      }
    }
    try (OrtSession.SessionOptions options = options(spec)) {
      return new Placed(env.createSession(model, options), "cpu");
    }
  }

  private static OrtSession.SessionOptions options(Settings.Teacher spec) throws OrtException {
    OrtSession.SessionOptions options = new OrtSession.SessionOptions();
    options.setIntraOpNumThreads(spec.intraOpThreads());
    options.setInterOpNumThreads(1);
    options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
    return options;
  }

  private static String noCudaProvider() {
    return "this ONNX Runtime has no CUDA execution provider (it has " + OrtEnvironment.getAvailableProviders()
        + "; the CPU build: build with -Pcuda, which uses onnxruntime_gpu)";
  }

  /** Stops, or with teacher.device.cpu-fallback says the teacher runs on the CPU. */
  private static void unavailable(Settings.Teacher spec, String problem) {
    String what = Settings.Teacher.DEVICE_KIND.is(DeviceKind.GPU) + ", but " + problem;
    if (!spec.device().cpuFallback()) {
      throw new DeviceUnavailableException(what + ". To run the teacher on the CPU instead, set "
          + Settings.Teacher.DEVICE_CPU_FALLBACK.is(true) + ".");
    }
    LOG.warn("{}: the teacher runs on the CPU ({})", what, Settings.Teacher.DEVICE_CPU_FALLBACK.is(true));
  }

  /** Where the encoder runs: "cpu", or "cuda:N" (CUDA device N). */
  public String device() {
    return device;
  }

  @Override
  public TeacherIdentity identity() {
    return identity;
  }

  @Override
  public int dimension() {
    return dimension;
  }

  @Override
  public long modelBytes() {
    return modelBytes;
  }

  @Override
  public Tokenizer tokenizer() {
    return tokenizer;
  }

  @Override
  public int inputTokens(String text) {
    return tokenizer.encodeForModel(text).getIds().length;
  }

  @Override
  public float[] embed(String text) {
    return rawEmbed(text);
  }

  @Override
  public TokenContexts newContexts() {
    return new TokenContexts(dimension);
  }

  @Override
  public float[] embed(String text, TokenContexts contexts) {
    Encoding enc = tokenizer.encodeForModel(text);
    return run(enc.getIds(), enc.getAttentionMask(), enc.getTypeIds(), contexts);
  }

  /** The static vector a student can start from, as in Model2Vec. */
  @Override
  public float[] embedToken(long tokenId) {
    long[] ids = new long[specialIds.length + 1];
    ids[0] = specialIds[0];
    ids[1] = tokenId;
    System.arraycopy(specialIds, 1, ids, 2, specialIds.length - 1);
    long[] mask = new long[ids.length];
    Arrays.fill(mask, 1L);
    return run(ids, mask, new long[ids.length], null);
  }

  private float[] rawEmbed(String text) {
    Encoding enc = tokenizer.encodeForModel(text);
    return run(enc.getIds(), enc.getAttentionMask(), enc.getTypeIds(), null);
  }

  /** Runs the encoder on one input; adds its hidden states to {@code contexts} unless that is null. */
  private float[] run(long[] ids, long[] mask, long[] typeIds, TokenContexts contexts) {
    Map<String, OnnxTensor> inputs = new HashMap<>();
    try {
      inputs.put("input_ids", OnnxTensor.createTensor(env, new long[][] {ids}));
      inputs.put("attention_mask", OnnxTensor.createTensor(env, new long[][] {mask}));
      if (needsTokenTypes) {
        inputs.put("token_type_ids", OnnxTensor.createTensor(env, new long[][] {typeIds}));
      }
      try (OrtSession.Result result = session.run(inputs)) {
        // Read the [1, tokens, dim] output in place: no nested Java arrays per row.
        OnnxTensor hidden = (OnnxTensor) result.get(0);
        long[] shape = hidden.getInfo().getShape();
        FloatBuffer states = hidden.getFloatBuffer();
        if (contexts != null) {
          contexts.add(ids, mask, states, (int) shape[2]);
        }
        return meanPoolNormalize(states, (int) shape[1], (int) shape[2], mask);
      }
    } catch (OrtException e) {
      throw new IllegalStateException("ONNX Runtime failed on an input of " + ids.length + " tokens", e);
    } finally {
      inputs.values().forEach(OnnxTensor::close);
    }
  }

  static float[] meanPoolNormalize(FloatBuffer hidden, int tokens, int dim, long[] mask) {
    float[] out = new float[dim];
    int n = 0;
    for (int t = 0; t < tokens; t++) {
      if (mask[t] != 0) {
        n++;
        int offset = t * dim;
        for (int d = 0; d < dim; d++) {
          out[d] += hidden.get(offset + d);
        }
      }
    }
    double norm = 0;
    for (int d = 0; d < dim; d++) {
      out[d] /= Math.max(n, 1);
      norm += out[d] * out[d];
    }
    float inv = (float) (1.0 / Math.max(Math.sqrt(norm), 1e-12));
    for (int d = 0; d < dim; d++) {
      out[d] *= inv;
    }
    return out;
  }

  @Override
  public void close() {
    try {
      session.close();
    } catch (OrtException e) {
      LOG.warn("Closing ONNX session failed", e);
    }
    tokenizer.close();
  }
}
