package io.distillery.util;

import dev.failsafe.Failsafe;
import dev.failsafe.RetryPolicy;
import java.io.Serializable;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Distillery's one retry helper (on Failsafe): exponential backoff with jitter between {@link Policy}'s
 * bounds, a bounded number of attempts, retrying only what {@code retryable} accepts, and a server's own
 * "retry after" delay taking the place of the backoff when it names one.
 */
public final class Retry {
  private static final Logger LOG = LoggerFactory.getLogger(Retry.class);
  /** Fraction of each backoff delay drawn at random, so that many clients do not retry in step. */
  static final double JITTER = 0.25;

  private Retry() {}

  /** The policy's parameters: attempts in all (the first included) and the exponential backoff's bounds. */
  public record Policy(int maxAttempts, Duration initialBackoff, Duration maxBackoff) implements Serializable {}

  /**
   * Runs {@code attempt} (given the attempt number, 1 first) asynchronously until it succeeds, fails with an
   * error {@code retryable} rejects, or {@code spec.maxAttempts()} attempts have failed; then completes with the
   * last result or error. Delays are scheduled on {@code scheduler}; {@code retryAfter} may name the delay a
   * failure asks for (e.g. an HTTP Retry-After header), which then replaces the backoff.
   */
  public static <T> CompletableFuture<T> async(Policy spec, ScheduledExecutorService scheduler,
      Predicate<Throwable> retryable, Function<Throwable, Optional<Duration>> retryAfter, String what,
      IntFunction<CompletionStage<T>> attempt) {
    RetryPolicy<T> policy = RetryPolicy.<T>builder()
        .handleIf((result, failure) -> failure != null && retryable.test(unwrap(failure)))
        .withMaxAttempts(spec.maxAttempts())
        .withBackoff(spec.initialBackoff(), spec.maxBackoff())
        .withJitter(JITTER)
        .withDelayFnOn(ctx -> retryAfter.apply(unwrap(ctx.getLastException()))
            .map(d -> d.compareTo(spec.maxBackoff()) > 0 ? spec.maxBackoff() : d).orElse(Duration.ofMillis(-1)),
            Throwable.class)
        .onRetry(e -> LOG.debug("{}: attempt {} failed ({}); retrying", what, e.getAttemptCount(),
            String.valueOf(unwrap(e.getLastException()))))
        .build();
    return Failsafe.with(policy).with(scheduler).getStageAsync(ctx -> attempt.apply(ctx.getAttemptCount() + 1));
  }

  /** The cause of a completion wrapper, else the error itself. */
  public static Throwable unwrap(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }
}
