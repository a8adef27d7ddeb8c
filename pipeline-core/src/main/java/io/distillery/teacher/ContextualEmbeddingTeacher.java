package io.distillery.teacher;

import io.distillery.tokenizer.Tokenizer;

/**
 * An embedding teacher whose hidden state at each token can be read: what a static student starts from
 * ({@link TokenContexts}, and each token's embedding on its own).
 */
public interface ContextualEmbeddingTeacher extends EmbeddingTeacher {
  /** The tokenizer the teacher reads with (the student shares its vocabulary). */
  Tokenizer tokenizer();

  /** An empty per-token sum of this teacher's hidden states, for one partition's texts. */
  TokenContexts newContexts();

  /**
   * {@link #embed}, and also adds the text's last hidden states (special tokens included) to {@code contexts}: the
   * same single run of the model, so the answer is bit-identical to {@link #embed}'s.
   */
  float[] embed(String text, TokenContexts contexts);

  /** The teacher's embedding of one vocabulary token on its own (with the model's special tokens around it). */
  float[] embedToken(long tokenId);
}
