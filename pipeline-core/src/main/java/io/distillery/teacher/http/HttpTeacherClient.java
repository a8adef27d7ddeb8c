package io.distillery.teacher.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.distillery.settings.Settings;
import io.distillery.util.JvmShared;
import io.distillery.util.Retry;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asynchronous client of a remote OpenAI-compatible teacher (one per JVM, {@link #shared}): posts a text's canonical
 * request body ({@link OpenAiProtocol}) to the configured endpoint through the JVM's
 * {@link AdaptiveRateLimiter}, with {@link Retry}'s policy, a per-request timeout and the API key its caller
 * resolved (from wherever the deployment keeps it). Callers bound how many requests they keep open.
 */
public final class HttpTeacherClient implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(HttpTeacherClient.class);
  private static final Pattern DURATION_PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h)");

  private final Settings.Teacher spec;
  private final URI endpoint;
  private final HttpClient http;
  private final Optional<String> authorization;
  private final AdaptiveRateLimiter limiter;
  private final ScheduledExecutorService scheduler;

  /** A successful answer: the parsed body, the attempts it took and the latency of the answering attempt. */
  public record Response(JsonNode body, int attempts, double latencyMs) {}

  private HttpTeacherClient(Settings.Teacher spec, double share, Optional<String> apiKey) {
    this.spec = spec;
    Settings.Http h = spec.http();
    this.endpoint = URI.create(h.baseUrl() + OpenAiProtocol.path(spec));
    this.authorization = apiKey.map(k -> "Bearer " + k);
    this.http = HttpClient.newBuilder()
        .connectTimeout(h.connectTimeout())
        // h2 where TLS negotiates it; plain-text servers (vLLM, llama.cpp, serve-teacher) speak HTTP/1.1.
        .version(endpoint.getScheme().equals("https") ? HttpClient.Version.HTTP_2 : HttpClient.Version.HTTP_1_1)
        .build();
    this.limiter = new AdaptiveRateLimiter(h.requestsPerMinute() * share, h.tokensPerMinute() * share);
    this.scheduler = Executors.newScheduledThreadPool(2, r -> {
      Thread t = new Thread(r, "distillery-http-teacher");
      t.setDaemon(true);
      return t;
    });
    LOG.info("Remote teacher {} at {} (model {}; this JVM's share of the job's limits: {} requests/min, {} tokens/min; "
        + "API key {})", spec.kind(), endpoint, spec.model(), fmt(h.requestsPerMinute() * share),
        fmt(h.tokensPerMinute() * share), authorization.isPresent() ? "sent" : "none");
  }

  /**
   * The JVM's client for this teacher; {@code share} is the fraction of the job's rate limits this JVM may use
   * (1 / the number of executor JVMs). {@code apiKey} is asked once per JVM, when the client is made.
   */
  public static HttpTeacherClient shared(Settings.Teacher spec, double share, Supplier<Optional<String>> apiKey) {
    return JvmShared.get(List.of(HttpTeacherClient.class.getName(), spec, share),
        () -> new HttpTeacherClient(spec, share, apiKey.get()));
  }

  public URI endpoint() {
    return endpoint;
  }

  /**
   * Asks the teacher, retrying as configured. Completes with the answer (read it with {@link OpenAiProtocol#read}),
   * or exceptionally with {@link Failed} (possibly wrapped in a {@code CompletionException}).
   */
  public CompletableFuture<Response> ask(OpenAiProtocol.Request request) {
    return post(OpenAiProtocol.requestBody(spec, request), OpenAiProtocol.estimateTokens(spec, request));
  }

  private CompletableFuture<Response> post(String body, long estimatedTokens) {
    AtomicInteger attempts = new AtomicInteger();
    AtomicLong latencyNanos = new AtomicLong();
    return Retry.<JsonNode>async(spec.http().retry(), scheduler,
        e -> e instanceof TeacherHttpException t && t.retryable(),
        e -> e instanceof TeacherHttpException t ? t.retryAfter() : Optional.empty(),
        "POST " + endpoint, attempt -> {
          attempts.set(attempt);
          try {
            limiter.acquire(estimatedTokens);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return CompletableFuture.failedFuture(new TeacherHttpException(TeacherHttpException.NO_STATUS, false,
                null, "interrupted while waiting for the rate limit", e));
          }
          HttpRequest.Builder request = HttpRequest.newBuilder(endpoint)
              .timeout(spec.http().requestTimeout())
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString(body));
          authorization.ifPresent(a -> request.header("Authorization", a));
          long start = System.nanoTime();
          // The client's own timeout covers the wait for the response headers; this guard bounds the whole
          // exchange (a body that never ends, a connection the client never notices is gone).
          return http.sendAsync(request.build(), HttpResponse.BodyHandlers.ofString())
              .orTimeout(spec.http().requestTimeout().toMillis() * 2 + 1000, TimeUnit.MILLISECONDS)
              .handle((response, error) -> {
                latencyNanos.set(System.nanoTime() - start);
                return check(response, error, estimatedTokens);
              });
        })
        .handle((json, error) -> {
          if (error == null) {
            return new Response(json, attempts.get(), latencyNanos.get() / 1e6);
          }
          Throwable e = Retry.unwrap(error);
          throw new Failed(e instanceof TeacherHttpException t ? t : new TeacherHttpException(
              TeacherHttpException.NO_STATUS, false, null, "request to " + endpoint + " failed: " + e, e),
              attempts.get());
        });
  }

  /** A request that failed for good: its last error and the attempts made. */
  public static final class Failed extends RuntimeException {
    private final int attempts;

    Failed(TeacherHttpException last, int attempts) {
      super(last.getMessage() + " (after " + attempts + " attempt" + (attempts == 1 ? "" : "s") + ")", last);
      this.attempts = attempts;
    }

    public TeacherHttpException last() {
      return (TeacherHttpException) getCause();
    }

    public int attempts() {
      return attempts;
    }
  }

  private JsonNode check(HttpResponse<String> response, Throwable error, long estimatedTokens) {
    if (error != null) {
      Throwable e = Retry.unwrap(error);
      if (e instanceof TimeoutException) {
        LOG.warn("No complete answer from {} within twice {}; abandoning the attempt", endpoint,
            Settings.Http.REQUEST_TIMEOUT.path());
      }
      if (e instanceof HttpTimeoutException || e instanceof TimeoutException) {
        throw new TeacherHttpException(TeacherHttpException.NO_STATUS, true, null, "no answer from " + endpoint
            + " within " + Settings.Http.REQUEST_TIMEOUT.is(spec.http().requestTimeout()), e);
      }
      if (e instanceof IOException) {
        throw new TeacherHttpException(TeacherHttpException.NO_STATUS, true, null, "connection to " + endpoint
            + " failed: " + e, e);
      }
      throw new TeacherHttpException(TeacherHttpException.NO_STATUS, false, null, "request to " + endpoint
          + " failed: " + e, e);
    }
    int status = response.statusCode();
    HttpHeaders headers = response.headers();
    if (status / 100 == 2) {
      JsonNode json = OpenAiProtocol.parse(status, response.body());
      rateLimitHeaders(headers);
      limiter.settle(estimatedTokens, OpenAiProtocol.served(json, spec.model()).totalTokens());
      limiter.succeeded();
      return json;
    }
    Duration retryAfter = retryAfter(headers).orElse(null);
    if (status == 429) {
      limiter.throttled(retryAfter);
    } else if (retryAfter != null) {
      limiter.pauseFor(retryAfter);
    }
    throw new TeacherHttpException(status, TeacherHttpException.retryableStatus(status), retryAfter,
        "HTTP " + status + " from POST " + endpoint + ": " + OpenAiProtocol.errorMessage(response.body()), null);
  }

  /** OpenAI's x-ratelimit-remaining-* = 0: pause until the matching x-ratelimit-reset-*. */
  private void rateLimitHeaders(HttpHeaders headers) {
    for (String kind : List.of("requests", "tokens")) {
      Optional<String> remaining = headers.firstValue("x-ratelimit-remaining-" + kind);
      if (remaining.isPresent() && remaining.get().strip().equals("0")) {
        headers.firstValue("x-ratelimit-reset-" + kind).flatMap(HttpTeacherClient::duration)
            .ifPresent(limiter::pauseFor);
      }
    }
  }

  /** Retry-After (seconds or an HTTP date), else OpenAI's x-ratelimit-reset-requests / -tokens. */
  static Optional<Duration> retryAfter(HttpHeaders headers) {
    Optional<String> value = headers.firstValue("Retry-After");
    if (value.isPresent()) {
      String v = value.get().strip();
      try {
        return Optional.of(Duration.ofMillis(Math.round(Double.parseDouble(v) * 1000)));
      } catch (NumberFormatException e) {
        try {
          Duration d = Duration.between(ZonedDateTime.now(),
              ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME));
          return Optional.of(d.isNegative() ? Duration.ZERO : d);
        } catch (DateTimeParseException ignored) {
          LOG.debug("Unreadable Retry-After '{}'", v);
        }
      }
    }
    Optional<Duration> requests = headers.firstValue("x-ratelimit-reset-requests").flatMap(HttpTeacherClient::duration);
    Optional<Duration> tokens = headers.firstValue("x-ratelimit-reset-tokens").flatMap(HttpTeacherClient::duration);
    if (requests.isPresent() && tokens.isPresent()) {
      return Optional.of(requests.get().compareTo(tokens.get()) >= 0 ? requests.get() : tokens.get());
    }
    return requests.isPresent() ? requests : tokens;
  }

  /** OpenAI's reset durations: "1s", "6m0s", "20ms", "1h2m3.5s". */
  static Optional<Duration> duration(String value) {
    Matcher m = DURATION_PART.matcher(value.strip());
    double millis = 0;
    int end = 0;
    while (m.find()) {
      if (m.start() != end) {
        return Optional.empty();
      }
      double n = Double.parseDouble(m.group(1));
      millis += n * switch (m.group(2)) {
        case "ms" -> 1;
        case "s" -> 1_000;
        case "m" -> 60_000;
        default -> 3_600_000;
      };
      end = m.end();
    }
    return end == value.strip().length() && end > 0 ? Optional.of(Duration.ofMillis(Math.round(millis)))
        : Optional.empty();
  }

  private static String fmt(double perMinute) {
    return perMinute > 0 ? String.format("%.1f", perMinute) : "unlimited";
  }

  @Override
  public void close() {
    scheduler.shutdownNow();
  }
}
