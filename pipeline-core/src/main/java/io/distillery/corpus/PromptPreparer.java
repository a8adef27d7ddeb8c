package io.distillery.corpus;

import io.distillery.settings.CorpusUnit;
import io.distillery.settings.Settings;
import io.distillery.util.Hashing;
import java.text.BreakIterator;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Turns one corpus document into prompt candidates: detect its language, split it into sentences (unless
 * corpus.unit = document), normalise whitespace, and sort each into a prompt or a quarantine reason. Engine-neutral;
 * the ingest job runs it inside executor tasks.
 */
public final class PromptPreparer {
  private static final Pattern SPACES = Pattern.compile("\\s+");
  private static final Pattern CONTROL = Pattern.compile("[\\p{Cc}&&[^\\t\\n\\r]]");

  private final Settings.Corpus spec;

  public PromptPreparer(Settings.Corpus spec) {
    this.spec = spec;
  }

  /** Stable id of a prompt: a content hash of its normalised text. */
  public static String rowId(String normalisedText) {
    return Hashing.sha256Hex(normalisedText).substring(0, 32);
  }

  public List<PromptCandidate> prepare(String document, LanguageDetector detector) {
    String text = document == null ? "" : SPACES.matcher(document).replaceAll(" ").strip();
    if (text.isEmpty()) {
      return List.of(quarantine("", "", PromptCandidate.Reason.EMPTY));
    }
    String language = "";
    if (!spec.languages().isEmpty()) {
      language = detector.detect(text, spec.detectChars());
      if (!spec.languages().contains(language)) {
        return List.of(new PromptCandidate(PromptCandidate.Status.OTHER_LANGUAGE, "", "", language, ""));
      }
    }
    if (spec.unit() == CorpusUnit.DOCUMENT) {
      return List.of(classify(text, language));
    }
    List<PromptCandidate> out = new ArrayList<>();
    BreakIterator sentences = BreakIterator.getSentenceInstance(Locale.ROOT);
    sentences.setText(text);
    for (int start = sentences.first(), end = sentences.next(); end != BreakIterator.DONE;
        start = end, end = sentences.next()) {
      String sentence = text.substring(start, end).strip();
      if (!sentence.isEmpty()) {
        out.add(classify(sentence, language));
      }
    }
    return out.isEmpty() ? List.of(quarantine(text, language, PromptCandidate.Reason.EMPTY)) : out;
  }

  private PromptCandidate classify(String sentence, String language) {
    if (sentence.indexOf('\uFFFD') >= 0) {
      return quarantine(sentence, language, PromptCandidate.Reason.UNDECODABLE);
    }
    if (CONTROL.matcher(sentence).find()) {
      return quarantine(sentence, language, PromptCandidate.Reason.CONTROL_CHARACTERS);
    }
    int words = SPACES.split(sentence).length;
    if (sentence.length() > spec.maxChars() || words > spec.maxWords()) {
      return quarantine(sentence, language, PromptCandidate.Reason.TOO_LONG);
    }
    if (words < spec.minWords()) {
      return quarantine(sentence, language, PromptCandidate.Reason.TOO_SHORT);
    }
    return new PromptCandidate(PromptCandidate.Status.PROMPT, rowId(sentence), sentence, language, "");
  }

  private static PromptCandidate quarantine(String text, String language, PromptCandidate.Reason reason) {
    return new PromptCandidate(PromptCandidate.Status.QUARANTINED, text.isEmpty() ? "" : rowId(text), text,
        language, reason.name().toLowerCase(Locale.ROOT));
  }
}
