package io.distillery.teacher;

import io.distillery.settings.Settings.Sampling;
import java.util.Locale;

/**
 * A language model's completion of one prompt, with what a student learns from: per generated position, the
 * teacher's k most probable next tokens and their log-probabilities under its own distribution (temperature 1, before
 * any sampling adjustment), most probable first.
 *
 * @param tokens the generated tokens, in the teacher's vocabulary
 * @param tokenLogprobs each generated token's log-probability under the same distribution
 * @param topIds per position, the k most probable token ids
 * @param topLogprobs per position, their natural-log probabilities
 * @param promptTokens the tokens the prompt took (its beginning-of-sequence token included)
 * @param sampling how it was sampled (its seed included)
 */
public record Completion(String text, int[] tokens, float[] tokenLogprobs, int[][] topIds, float[][] topLogprobs,
    Finish finish, int promptTokens, Sampling sampling) {
  public Completion {
    int n = tokens.length;
    if (tokenLogprobs.length != n || topIds.length != n || topLogprobs.length != n) {
      throw new IllegalArgumentException("a completion has " + tokens.length + " tokens but " + tokenLogprobs.length
          + " token log-probabilities and " + topIds.length + " top-k positions");
    }
  }

  /** Why the completion ended. */
  public enum Finish {
    /** The model ended it, or a stop text did. */
    STOP,
    /** It reached the maximum number of tokens, or the model's context. */
    LENGTH;

    /** As OpenAI's finish_reason names it. */
    public String wire() {
      return name().toLowerCase(Locale.ROOT);
    }
  }
}
