package io.distillery.teacher.http;

import io.github.bucket4j.Bucket;
import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.TokensInheritanceStrategy;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Requests per minute and tokens per minute for one JVM (its share of the job's limits), on Bucket4j token
 * buckets, adaptive: a 429 halves both rates (down to 1/64 of the configured ones) and every
 * {@link #RECOVERY_STEP} without one raises them by a quarter again, up to the configured rates (AIMD, as TCP
 * does). A server's Retry-After or x-ratelimit-reset-* pauses every request of the JVM until that time. A limit
 * of 0 is no limit (pauses still apply).
 */
public final class AdaptiveRateLimiter {
  private static final Logger LOG = LoggerFactory.getLogger(AdaptiveRateLimiter.class);
  static final Duration RECOVERY_STEP = Duration.ofSeconds(5);
  static final double MIN_FACTOR = 1.0 / 64;

  private final double requestsPerMinute;
  private final double tokensPerMinute;
  private final Bucket requests; // null: unlimited
  private final Bucket tokens; // null: unlimited
  private final AtomicLong pausedUntilNanos = new AtomicLong(System.nanoTime());
  private double factor = 1; // guarded by this
  private long lastChangeNanos = System.nanoTime(); // guarded by this

  public AdaptiveRateLimiter(double requestsPerMinute, double tokensPerMinute) {
    this.requestsPerMinute = requestsPerMinute;
    this.tokensPerMinute = tokensPerMinute;
    this.requests = requestsPerMinute > 0 ? Bucket.builder().addLimit(bandwidth(requestsPerMinute, 1).getBandwidths()[0]).build() : null;
    this.tokens = tokensPerMinute > 0 ? Bucket.builder().addLimit(bandwidth(tokensPerMinute, 1).getBandwidths()[0]).build() : null;
  }

  /**
   * At most one second's worth of burst (at least one request), refilled evenly: the rate over any window is the
   * configured one plus that burst.
   */
  private static BucketConfiguration bandwidth(double perMinute, double factor) {
    double rate = Math.max(perMinute * factor, 1e-3);
    long capacity = Math.max(1, (long) Math.floor(rate / 60));
    long periodNanos = (long) (60e9 / rate);
    return BucketConfiguration.builder()
        .addLimit(limit -> limit.capacity(capacity).refillGreedy(1, Duration.ofNanos(Math.max(1, periodNanos)))
            .initialTokens(capacity))
        .build();
  }

  /** Tokens one request may take from the token bucket at once (estimates above it are charged in full later). */
  private long tokenCapacity() {
    return Math.max(1, (long) Math.floor(Math.max(tokensPerMinute * currentFactor(), 1e-3) / 60));
  }

  /** Blocks until a request with an estimated {@code estimatedTokens} may be sent. */
  public void acquire(long estimatedTokens) throws InterruptedException {
    waitForPause();
    if (requests != null) {
      requests.asBlocking().consume(1);
    }
    if (tokens != null && estimatedTokens > 0) {
      long now = Math.min(estimatedTokens, tokenCapacity());
      tokens.asBlocking().consume(now);
      if (estimatedTokens > now) {
        tokens.consumeIgnoringRateLimits(estimatedTokens - now); // goes into debt: later requests wait for it
      }
    }
  }

  /** Corrects a request's token charge once the server has said what it used. */
  public void settle(long estimatedTokens, long actualTokens) {
    if (tokens == null || actualTokens <= 0 || actualTokens == estimatedTokens) {
      return;
    }
    if (actualTokens > estimatedTokens) {
      tokens.consumeIgnoringRateLimits(actualTokens - estimatedTokens);
    } else {
      tokens.addTokens(estimatedTokens - actualTokens);
    }
  }

  /** The server said 429: slow down, and pause until it said to come back (if it did). */
  public void throttled(Duration retryAfter) {
    if (retryAfter != null) {
      pauseFor(retryAfter);
    }
    synchronized (this) {
      double before = factor;
      factor = Math.max(MIN_FACTOR, factor / 2);
      lastChangeNanos = System.nanoTime();
      if (factor != before) {
        reconfigure();
        LOG.info("Teacher rate limited (429): sending at {}% of the configured rate", Math.round(factor * 100));
      }
    }
  }

  /** A request succeeded: recover a step towards the configured rate if the last change is long enough ago. */
  public void succeeded() {
    synchronized (this) {
      if (factor < 1 && System.nanoTime() - lastChangeNanos >= RECOVERY_STEP.toNanos()) {
        factor = Math.min(1, factor * 1.25);
        lastChangeNanos = System.nanoTime();
        reconfigure();
      }
    }
  }

  /** Every request of this JVM waits at least {@code delay} from now. */
  public void pauseFor(Duration delay) {
    long until = System.nanoTime() + delay.toNanos();
    pausedUntilNanos.accumulateAndGet(until, Math::max);
  }

  synchronized double currentFactor() {
    return factor;
  }

  private void reconfigure() {
    if (requests != null) {
      requests.replaceConfiguration(bandwidth(requestsPerMinute, factor), TokensInheritanceStrategy.AS_IS);
    }
    if (tokens != null) {
      tokens.replaceConfiguration(bandwidth(tokensPerMinute, factor), TokensInheritanceStrategy.AS_IS);
    }
  }

  private void waitForPause() throws InterruptedException {
    long wait;
    while ((wait = pausedUntilNanos.get() - System.nanoTime()) > 0) {
      TimeUnit.NANOSECONDS.sleep(wait);
    }
  }
}
