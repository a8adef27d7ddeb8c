package io.distillery.teacher;

import java.io.Serializable;
import java.util.List;

/**
 * How a language-model teacher samples a completion: all of it is part of the request, so a change to any of it is a
 * new request.
 *
 * @param temperature 0 = greedy (the most probable token every step)
 * @param topP nucleus sampling: the smallest set of most probable tokens whose mass reaches it (1 = all)
 * @param maxTokens the most tokens a completion has
 * @param stop texts that end a completion where they appear (not included)
 * @param seed the sampler's seed: the same prompt, parameters and seed give the same completion
 */
public record Sampling(double temperature, double topP, int maxTokens, List<String> stop, long seed)
    implements Serializable {
  public Sampling {
    stop = List.copyOf(stop);
    if (temperature < 0 || !(topP > 0 && topP <= 1) || maxTokens < 1) {
      throw new IllegalArgumentException("temperature >= 0, top-p in (0, 1] and max tokens >= 1, were " + temperature
          + ", " + topP + ", " + maxTokens);
    }
  }

  /** The same sampling with another seed (the n-th sample of a prompt). */
  public Sampling withSeed(long newSeed) {
    return new Sampling(temperature, topP, maxTokens, stop, newSeed);
  }
}
