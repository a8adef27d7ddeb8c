package io.distillery.teacher;

import io.distillery.provenance.TeacherIdentity;
import io.distillery.settings.Settings;
import io.distillery.teacher.lm.Llama2Model;
import io.distillery.teacher.lm.Llama2Tokenizer;
import io.distillery.util.Hashing;
import io.distillery.util.JvmShared;
import io.distillery.util.Resources;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A llama2.c checkpoint as an in-process language-model teacher ({@code teacher.model} the checkpoint,
 * {@code teacher.tokenizer} its tokenizer file). Completions are reproducible: greedy at temperature 0, else sampled
 * with the request's seed. The reported log-probabilities are the model's own (temperature 1), whatever the sampling.
 * One per executor JVM ({@link #shared}); each completion decodes in a session of its own, so it is thread-safe.
 */
public final class Llama2Teacher extends TokenByTokenModel {
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

  @Override
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
  protected int context() {
    return model.config().seqLen();
  }

  @Override
  protected IntFunction<float[]> session() {
    return model.session()::next;
  }

  @Override
  public void close() {
    // Nothing native: the weights are heap arrays.
  }
}
