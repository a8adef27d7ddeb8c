package io.distillery.teacher;

import io.distillery.settings.Settings.Sampling;
import java.util.Locale;

/**
 * A language model's completion of one prompt, with what a student learns from: per generated position, the
 * teacher's k most probable next tokens and their log-probabilities under its own distribution (temperature 1, before
 * any sampling adjustment), most probable first.
 *
 * <p>A remote teacher may not say which token ids it generated (OpenAI sends token strings): then {@code tokens} is
 * empty while {@code tokenLogprobs} has a value per position ({@link #hasTokenIds}), or it may send the ids but not
 * its alternatives' ({@code topIds} empty, {@link #hasTopK}). Such a completion is corpus text, not something a
 * student can learn from.
 *
 * @param tokens the generated tokens, in the teacher's vocabulary (empty: the teacher did not say)
 * @param tokenLogprobs each generated token's log-probability under the same distribution, one per position
 * @param topIds per position, the k most probable token ids (empty: not known)
 * @param topLogprobs per position, their natural-log probabilities
 * @param promptTokens the tokens the prompt took (its beginning-of-sequence token included)
 * @param sampling how it was sampled (its seed included)
 */
public record Completion(String text, int[] tokens, float[] tokenLogprobs, int[][] topIds, float[][] topLogprobs,
    Finish finish, int promptTokens, Sampling sampling) {
  public Completion {
    int n = tokenLogprobs.length;
    if ((tokens.length != n && tokens.length != 0) || topIds.length != topLogprobs.length
        || (topIds.length != 0 && topIds.length != tokens.length)) {
      throw new IllegalArgumentException("a completion has " + n + " token log-probabilities but " + tokens.length
          + " token ids and " + topIds.length + " top-k positions (" + topLogprobs.length + " with log-probabilities)");
    }
  }

  /** Whether the generated tokens' ids are known (in-process teachers, servers that send ids). */
  public boolean hasTokenIds() {
    return tokens.length == tokenLogprobs.length;
  }

  /** Whether every position's top-k alternatives are known by id. */
  public boolean hasTopK() {
    return topIds.length == tokens.length && hasTokenIds();
  }

  /** Why the completion ended. */
  public enum Finish {
    /** The model ended it, or a stop text did. */
    STOP,
    /** It reached the maximum number of tokens, or the model's context. */
    LENGTH,
    /** A remote teacher's content filter cut it (OpenAI's finish_reason "content_filter"). */
    CONTENT_FILTER;

    /** As OpenAI's finish_reason names it. */
    public String wire() {
      return name().toLowerCase(Locale.ROOT);
    }
  }
}
