package io.distillery.teacher;

import io.distillery.settings.Settings.Sampling;
import io.distillery.teacher.lm.Llama2Tokenizer;
import java.util.function.IntFunction;

/**
 * A language model that reads one token at a time with a llama2.c tokenizer: completion, prompt tokens and token
 * bytes all follow from the tokenizer, the context length and a fresh session ({@link Decoding}).
 */
public abstract class TokenByTokenModel implements LanguageModelTeacher {
  /** The tokenizer the model reads and writes text with. */
  protected abstract Llama2Tokenizer tokenizer();

  /** Tokens the model reads at most, prompt included. */
  protected abstract int context();

  /** A fresh session: feeds one token, answers the next token's logits. */
  protected abstract IntFunction<float[]> session();

  @Override
  public Completion complete(String prompt, Sampling sampling, int k) {
    return Decoding.complete(tokenizer(), context(), session(), prompt, sampling, k);
  }

  @Override
  public int[] promptTokens(String prompt) {
    return tokenizer().encode(prompt, true);
  }

  @Override
  public byte[] tokenBytes(int previous, int token) {
    return tokenizer().bytes(previous, token);
  }
}
