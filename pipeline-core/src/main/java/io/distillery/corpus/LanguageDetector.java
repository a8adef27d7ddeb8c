package io.distillery.corpus;

import io.distillery.util.JvmShared;
import io.distillery.util.Resources;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import opennlp.tools.langdetect.LanguageDetectorME;
import opennlp.tools.langdetect.LanguageDetectorModel;

/**
 * Apache OpenNLP's language detector (langdetect-183.bin, 103 languages, ISO 639-3 codes), one model per
 * JVM, one detector per thread.
 */
public final class LanguageDetector {
  public static final String MODEL = "classpath:langdetect-183.bin";

  private final ThreadLocal<LanguageDetectorME> detector;

  private LanguageDetector(LanguageDetectorModel model) {
    this.detector = ThreadLocal.withInitial(() -> new LanguageDetectorME(model));
  }

  public static LanguageDetector shared() {
    return JvmShared.get(LanguageDetector.class, () -> {
      try (InputStream in = Resources.open(MODEL)) {
        return new LanguageDetector(new LanguageDetectorModel(in));
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot load OpenNLP language model " + MODEL, e);
      }
    });
  }

  /** ISO 639-3 code of the most likely language of the first {@code maxChars} characters. */
  public String detect(String text, int maxChars) {
    String sample = text.length() <= maxChars ? text : text.substring(0, maxChars);
    return detector.get().predictLanguage(sample).getLang();
  }
}
