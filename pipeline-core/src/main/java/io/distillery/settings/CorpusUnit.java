package io.distillery.settings;

/** What one prompt is (corpus.unit). */
public enum CorpusUnit implements Named {
  /** Documents are split into sentences. */
  SENTENCE,
  /** The whole document, whitespace-normalised, is one prompt. */
  DOCUMENT;

  @Override
  public String toString() {
    return configName();
  }
}
