package io.distillery.teacher.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.undertow.Undertow;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.handlers.BlockingHandler;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A test double for the faults a real server cannot be made to produce on demand: an HTTP proxy on loopback in
 * front of a real OpenAI-compatible server (serve-teacher), speaking the same protocol, that answers the n-th
 * attempt of a request with the fault its {@link Plan} names: 429 with Retry-After, 500, 503, a response slower
 * than the client's timeout, a body cut short, a non-JSON body, a reset connection, or 400. It records every
 * request's arrival and which inputs got a full answer, so tests can check that nothing is asked twice.
 */
public final class FaultInjectingProxy implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  public enum Fault { NONE, TOO_MANY_REQUESTS, SERVER_ERROR, UNAVAILABLE, SLOW, TRUNCATED, NOT_JSON, RESET, BAD_REQUEST }

  /** The fault for the {@code attempt}-th request (1 first) about {@code input}. */
  @FunctionalInterface
  public interface Plan {
    Fault fault(String input, int attempt);
  }

  private final URI upstream;
  private final Plan plan;
  private final Duration slow;
  private final String retryAfterSeconds;
  private final Undertow undertow;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> answered = new ConcurrentHashMap<>();
  private final List<Long> arrivals = new CopyOnWriteArrayList<>();
  private final Map<String, List<Long>> arrivalsByInput = new ConcurrentHashMap<>();

  private FaultInjectingProxy(URI upstream, Plan plan, Duration slow, int retryAfterSeconds) {
    this.upstream = upstream;
    this.plan = plan;
    this.slow = slow;
    this.retryAfterSeconds = Integer.toString(retryAfterSeconds);
    this.undertow = Undertow.builder().addHttpListener(0, "127.0.0.1").setWorkerThreads(64)
        .setHandler(new BlockingHandler(this::handle)).build();
    undertow.start();
  }

  /** Starts a proxy for {@code upstream} (a base URL up to /v1). */
  public static FaultInjectingProxy start(URI upstream, Plan plan, Duration slow, int retryAfterSeconds) {
    return new FaultInjectingProxy(upstream, plan, slow, retryAfterSeconds);
  }

  /** The base URL clients use: http://127.0.0.1:PORT/v1. */
  public String baseUrl() {
    int port = ((InetSocketAddress) undertow.getListenerInfo().get(0).getAddress()).getPort();
    return "http://127.0.0.1:" + port + "/v1";
  }

  /** Requests received about each input. */
  public Map<String, Integer> attempts() {
    Map<String, Integer> out = new TreeMap<>();
    attempts.forEach((k, v) -> out.put(k, v.get()));
    return out;
  }

  /** Full answers sent about each input. */
  public Map<String, Integer> answered() {
    Map<String, Integer> out = new TreeMap<>();
    answered.forEach((k, v) -> out.put(k, v.get()));
    return out;
  }

  /** Arrival times (System.nanoTime) of every request. */
  public List<Long> arrivals() {
    return List.copyOf(arrivals);
  }

  public List<Long> arrivals(String input) {
    return List.copyOf(arrivalsByInput.getOrDefault(input, List.of()));
  }

  private void handle(HttpServerExchange exchange) throws Exception {
    long now = System.nanoTime();
    arrivals.add(now);
    String body = new String(exchange.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String input = inputOf(body);
    arrivalsByInput.computeIfAbsent(input, k -> new CopyOnWriteArrayList<>()).add(now);
    int attempt = attempts.computeIfAbsent(input, k -> new AtomicInteger()).incrementAndGet();
    Fault fault = plan.fault(input, attempt);
    switch (fault) {
      case TOO_MANY_REQUESTS -> {
        exchange.getResponseHeaders().put(new HttpString("Retry-After"), retryAfterSeconds);
        error(exchange, 429, "rate_limit_exceeded", "Rate limit reached; try again later.");
      }
      case SERVER_ERROR -> error(exchange, 500, "server_error", "The server had an error.");
      case UNAVAILABLE -> error(exchange, 503, "server_error", "The engine is overloaded.");
      case BAD_REQUEST -> error(exchange, 400, "invalid_request_error", "This request is not valid.");
      case RESET -> exchange.getConnection().close();
      case SLOW -> {
        Thread.sleep(slow.toMillis());
        send(exchange, 200, "application/json", "{\"late\":true}");
      }
      default -> {
        HttpRequest.Builder forward = HttpRequest.newBuilder(URI.create(upstream + exchange.getRequestPath()
            .substring(exchange.getRequestPath().indexOf("/v1") + 3)))
            .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        String auth = exchange.getRequestHeaders().getFirst(Headers.AUTHORIZATION);
        if (auth != null) {
          forward.header("Authorization", auth);
        }
        HttpResponse<String> r = http.send(forward.build(), HttpResponse.BodyHandlers.ofString());
        switch (fault) {
          case TRUNCATED -> send(exchange, 200, "application/json", r.body().substring(0, r.body().length() / 2));
          case NOT_JSON -> send(exchange, 200, "text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>");
          default -> {
            if (r.statusCode() == 200) {
              answered.computeIfAbsent(input, k -> new AtomicInteger()).incrementAndGet();
            }
            send(exchange, r.statusCode(), "application/json", r.body());
          }
        }
      }
    }
  }

  /**
   * The request's input: the embeddings input, the completions prompt, or the messages' contents, one per line; a
   * sampled request's seed after it (" seed=N"), since each sample of a prompt is a request of its own.
   */
  static String inputOf(String body) {
    try {
      JsonNode n = JSON.readTree(body);
      String seed = n.has("seed") ? " seed=" + n.get("seed").asText() : "";
      if (n.has("input")) {
        return n.get("input").asText() + seed;
      }
      if (n.has("prompt")) {
        return n.get("prompt").asText() + seed;
      }
      List<String> contents = new ArrayList<>();
      n.path("messages").forEach(m -> contents.add(m.path("content").asText()));
      return String.join("\n", contents) + seed;
    } catch (Exception e) {
      return body;
    }
  }

  private static void error(HttpServerExchange exchange, int status, String type, String message) throws Exception {
    send(exchange, status, "application/json", JSON.writeValueAsString(Map.of("error",
        Map.of("message", message, "type", type, "code", type))));
  }

  private static void send(HttpServerExchange exchange, int status, String type, String body) {
    exchange.setStatusCode(status);
    exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, type);
    exchange.getResponseSender().send(body, StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    undertow.stop();
  }
}
