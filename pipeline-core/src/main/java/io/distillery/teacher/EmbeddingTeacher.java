package io.distillery.teacher;

/** A teacher that maps a text to a fixed-size embedding (task embed). */
public interface EmbeddingTeacher extends Teacher {
  /** Embedding dimension. */
  int dimension();

  /** The teacher's embedding of {@code text}, L2-normalised. */
  float[] embed(String text);

  /** Tokens the model reads for {@code text} (its special tokens included): the usage it reports. */
  int inputTokens(String text);
}
