package io.distillery.teacher;

/** A teacher that maps a text to a fixed-size embedding. Implementations are thread-safe. */
public interface EmbeddingTeacher extends AutoCloseable {
  TeacherIdentity identity();

  /** Embedding dimension. */
  int dimension();

  /** The teacher's embedding of {@code text}, L2-normalised. */
  float[] embed(String text);

  @Override
  void close();
}
