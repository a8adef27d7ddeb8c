package io.distillery.teacher;

import io.distillery.provenance.TeacherIdentity;
import io.distillery.settings.Settings;
import io.distillery.util.Hashing;
import io.distillery.util.JvmShared;
import io.distillery.util.Resources;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import opennlp.tools.langdetect.Language;
import opennlp.tools.langdetect.LanguageDetectorME;
import opennlp.tools.langdetect.LanguageDetectorModel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Apache OpenNLP's language detector as a classification teacher: {@code predictLanguages} gives a full
 * distribution over the model's languages (103 ISO 639-3 codes for langdetect-183.bin). One model per executor
 * JVM ({@link #shared}), one detector per thread (a {@code LanguageDetectorME} is not thread-safe). The label
 * vocabulary is the model's languages in alphabetical order, so it does not depend on the model's internals.
 */
public final class OpenNlpLanguageTeacher implements LabelTeacher {
  private static final Logger LOG = LoggerFactory.getLogger(OpenNlpLanguageTeacher.class);

  private final ThreadLocal<LanguageDetectorME> detector;
  private final TeacherIdentity identity;
  private final List<String> labels;
  private final Map<String, Integer> index = new HashMap<>();
  private final long modelBytes;

  private OpenNlpLanguageTeacher(LanguageDetectorModel model, TeacherIdentity identity, long modelBytes) {
    this.detector = ThreadLocal.withInitial(() -> new LanguageDetectorME(model));
    this.identity = identity;
    this.modelBytes = modelBytes;
    String[] supported = detector.get().getSupportedLanguages().clone();
    Arrays.sort(supported);
    this.labels = List.of(supported);
    for (int i = 0; i < supported.length; i++) {
      index.put(supported[i], i);
    }
  }

  /** The executor JVM's one instance for this spec. */
  public static OpenNlpLanguageTeacher shared(Settings.Teacher spec) {
    return JvmShared.get(spec, () -> open(spec));
  }

  public static OpenNlpLanguageTeacher open(Settings.Teacher spec) {
    long start = System.nanoTime();
    byte[] bytes = Resources.readAll(spec.model());
    try {
      LanguageDetectorModel model = new LanguageDetectorModel(new ByteArrayInputStream(bytes));
      OpenNlpLanguageTeacher teacher = new OpenNlpLanguageTeacher(model,
          TeacherIdentity.of(spec, Hashing.sha256Hex(bytes)), bytes.length);
      LOG.info("Loaded OpenNLP language detector {} ({} bytes, {} languages) in {} ms", spec.model(), bytes.length,
          teacher.labels.size(), (System.nanoTime() - start) / 1_000_000);
      return teacher;
    } catch (IOException e) {
      throw new UncheckedIOException(Settings.Teacher.MODEL.is(spec.model())
          + " is not an OpenNLP language-detector model", e);
    }
  }

  @Override
  public TeacherIdentity identity() {
    return identity;
  }

  @Override
  public List<String> labels() {
    return labels;
  }

  @Override
  public long modelBytes() {
    return modelBytes;
  }

  @Override
  public float[] distribution(String text) {
    float[] p = new float[labels.size()];
    double sum = 0;
    for (Language l : detector.get().predictLanguages(text)) {
      Integer i = index.get(l.getLang());
      if (i == null) {
        throw new IllegalStateException("OpenNLP answered language '" + l.getLang() + "', not among its own "
            + labels.size() + " supported languages");
      }
      p[i] = (float) l.getConfidence();
      sum += l.getConfidence();
    }
    if (!(sum > 0)) {
      throw new IllegalStateException("OpenNLP returned no probability mass for a text of " + text.length()
          + " characters");
    }
    for (int i = 0; i < p.length; i++) {
      p[i] /= (float) sum;
    }
    return p;
  }

  @Override
  public void close() {
    // Nothing native: the model is heap memory.
  }
}
