package io.distillery.settings;

/** The student's architecture (student.kind). */
public enum StudentKind implements Named {
  /** An embedding bag over the teacher's vocabulary, mean-pooled and projected to the teacher's dimension. */
  STATIC_EMBEDDING,
  /** Hashed character n-grams, mean-pooled, a hidden ReLU layer and a softmax over the labels. */
  CHAR_NGRAM_MLP,
  /** A token vector per vocabulary entry, an LSTM and logits over the vocabulary, trained on the teacher's top k. */
  LSTM_LM,
  /** No student: the run generates the teacher's dataset and stops there (corpus generation). */
  NONE;

  @Override
  public String toString() {
    return configName();
  }
}
