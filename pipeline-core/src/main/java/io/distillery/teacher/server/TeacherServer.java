package io.distillery.teacher.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.distillery.provenance.TeacherIdentity;
import io.distillery.settings.Settings;
import io.distillery.settings.TeacherKind;
import io.distillery.teacher.Completion;
import io.distillery.teacher.EmbeddingTeacher;
import io.distillery.teacher.LabelTeacher;
import io.distillery.teacher.LanguageModelTeacher;
import io.distillery.teacher.Teachers;
import io.distillery.util.Hashing;
import io.undertow.Handlers;
import io.undertow.Undertow;
import io.undertow.connector.PooledByteBuffer;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.handlers.BlockingHandler;
import io.undertow.server.handlers.RequestLimit;
import io.undertow.server.handlers.RequestLimitingHandler;
import io.undertow.server.protocol.http.HttpServerConnection;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code serve-teacher}: an OpenAI-compatible HTTP server (Undertow) in front of the configured in-process
 * teacher, the real peer for HTTP clients and their tests.
 *
 * <ul>
 *   <li>onnx-embedding: {@code POST /v1/embeddings} ({@code input}: a string or a list of strings);
 *   <li>opennlp-langdetect: {@code POST /v1/chat/completions}: the last user message is classified, the answer is
 *       the top label, and with {@code logprobs} the label distribution is in
 *       {@code choices[0].logprobs.content[0].top_logprobs} (natural-log probabilities, most probable first);
 *   <li>llama2c (a language model): {@code POST /v1/completions} and {@code POST /v1/chat/completions} generate
 *       ({@code max_tokens}, {@code temperature}, {@code top_p}, {@code top_k}, {@code seed}, {@code stop}); with
 *       {@code logprobs} every generated token's log-probability and its top alternatives, in each endpoint's OpenAI
 *       form, and the token ids in {@code choices[0].token_ids} (as vLLM returns them); with vLLM's
 *       {@code return_tokens_as_token_ids} every token and alternative is named "token_id:N". Chat reads the last
 *       user message as the prompt (the model has no chat template);
 *   <li>{@code GET /health}, {@code GET /v1/models}.
 * </ul>
 * Binds {@code serve.host} (127.0.0.1 by default); with a token, every request but {@code /health} needs
 * {@code Authorization: Bearer TOKEN}. At most {@code serve.max-concurrent} requests run at once and
 * {@code serve.max-queued} wait; more are refused with 503 at once. An embeddings request carries at most
 * {@code serve.max-inputs} inputs, works at most {@code serve.request-timeout} (then 504) and stops as soon as its
 * client closes the connection; {@code /health} counts the requests in flight, abandoned and timed out. Errors use
 * OpenAI's error body.
 */
public final class TeacherServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(TeacherServer.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String JSON_TYPE = "application/json";

  private final Settings settings;
  private final Optional<byte[]> token;
  private final Undertow undertow;
  private final TeacherIdentity identity;
  private final EmbeddingTeacher embedder; // a teacher answering with embeddings, else null
  private final LabelTeacher classifier; // a teacher answering with labels, else null
  private final LanguageModelTeacher language; // a teacher completing prompts, else null
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicLong abandoned = new AtomicLong();
  private final AtomicLong timedOut = new AtomicLong();

  private TeacherServer(Settings settings, Optional<String> token, Optional<LanguageModelTeacher> model) {
    this.settings = settings;
    this.token = token.map(t -> t.getBytes(StandardCharsets.UTF_8));
    Settings.Teacher spec = settings.teacher();
    if (spec.remote() && model.isEmpty()) {
      throw new IllegalArgumentException("serve-teacher serves an in-process teacher; "
          + Settings.Teacher.KIND.is(spec.kind()) + " is itself a remote API");
    }
    boolean configured = model.isEmpty();
    this.embedder = configured && spec.answer() == TeacherKind.Answer.EMBEDDING ? Teachers.embedding(spec) : null;
    this.classifier = configured && spec.answer() == TeacherKind.Answer.LABELS ? Teachers.labels(spec) : null;
    this.language = model.orElseGet(() -> spec.generates() ? Teachers.language(spec) : null);
    this.identity = embedder != null ? embedder.identity()
        : classifier != null ? classifier.identity() : language.identity();
    Settings.Serve serve = settings.serve();
    HttpHandler routes = Handlers.routing()
        .get("/v1/models", authorised(exchange -> send(exchange, 200, models())))
        .post("/v1/embeddings", authorised(json(this::embeddings)))
        .post("/v1/chat/completions", authorised(json((request, work) -> chatCompletions(request))))
        .post("/v1/completions", authorised(json((request, work) -> completions(request))))
        .setFallbackHandler(exchange -> error(exchange, new ApiError(404, "invalid_request_error", "not_found",
            exchange.getRequestMethod() + " " + exchange.getRequestPath() + " is not served here; try POST "
                + (embedder != null ? "/v1/embeddings" : "/v1/chat/completions or POST /v1/completions")
                + " or GET /health")))
        .setInvalidMethodHandler(exchange -> error(exchange, new ApiError(405, "invalid_request_error",
            "method_not_allowed", exchange.getRequestMethod() + " is not allowed on " + exchange.getRequestPath())));
    RequestLimit limit = new RequestLimit(serve.maxConcurrent(), serve.maxQueued());
    limit.setFailureHandler(exchange -> error(exchange, new ApiError(503, "server_error", "overloaded",
        "The teacher is busy (" + Settings.Serve.MAX_CONCURRENT.is(serve.maxConcurrent()) + ", "
            + Settings.Serve.MAX_QUEUED.is(serve.maxQueued()) + "); retry after the Retry-After header.")));
    this.undertow = Undertow.builder()
        .addHttpListener(serve.port(), serve.host())
        .setIoThreads(1)
        .setWorkerThreads(serve.maxConcurrent())
        // Health answers on the I/O thread, outside the slots: a busy teacher still says what it is doing.
        .setHandler(Handlers.path(new RequestLimitingHandler(limit, new BlockingHandler(routes)))
            .addExactPath("/health", exchange -> send(exchange, 200, health())))
        .build();
  }

  /** Starts serving the configured teacher; {@code token} is the bearer token clients must send, if any. */
  public static TeacherServer start(Settings settings, Optional<String> token) {
    return start(new TeacherServer(settings, token, Optional.empty()), settings, token);
  }

  /** Serves {@code model} (e.g. a trained student) instead of the configured teacher, on the same endpoints. */
  public static TeacherServer start(Settings settings, Optional<String> token, LanguageModelTeacher model) {
    return start(new TeacherServer(settings, token, Optional.of(model)), settings, token);
  }

  private static TeacherServer start(TeacherServer server, Settings settings, Optional<String> token) {
    server.undertow.start();
    LOG.info("Serving '{}' on http://{} ({} at once, {} queued, {})", server.identity.name(),
        hostPort(server.address()), settings.serve().maxConcurrent(), settings.serve().maxQueued(),
        token.isPresent() ? "bearer token required" : "no authentication");
    return server;
  }

  /** The name clients put in {@code model}: the teacher's, or the student's it serves instead. */
  public String modelName() {
    return identity.name();
  }

  public InetSocketAddress address() {
    return (InetSocketAddress) undertow.getListenerInfo().get(0).getAddress();
  }

  private static String hostPort(InetSocketAddress a) {
    return a.getHostString() + ":" + a.getPort();
  }

  @Override
  public void close() {
    undertow.stop();
  }

  private HttpHandler authorised(HttpHandler next) {
    if (token.isEmpty()) {
      return next;
    }
    return exchange -> {
      String header = exchange.getRequestHeaders().getFirst(Headers.AUTHORIZATION);
      byte[] given = header != null && header.startsWith("Bearer ")
          ? header.substring(7).getBytes(StandardCharsets.UTF_8) : new byte[0];
      if (!MessageDigest.isEqual(given, token.get())) {
        error(exchange, new ApiError(401, "invalid_request_error", "invalid_api_key",
            "Missing or wrong bearer token (send 'Authorization: Bearer TOKEN')."));
        return;
      }
      next.handleRequest(exchange);
    };
  }

  /** What an endpoint does with a request's JSON body, within the request's {@link Work} limits. */
  @FunctionalInterface
  private interface Endpoint {
    ObjectNode answer(JsonNode request, Work work);
  }

  /**
   * Reads a JSON body (bounded by serve.max-body-bytes), answers with the endpoint's JSON or an error; a request
   * whose client has gone gets no answer.
   */
  private HttpHandler json(Endpoint endpoint) {
    return exchange -> {
      inFlight.incrementAndGet();
      try {
        int max = settings.serve().maxBodyBytes();
        if (exchange.getRequestContentLength() > max) {
          throw new ApiError(413, "invalid_request_error", "request_too_large",
              "The request body is larger than " + Settings.Serve.MAX_BODY_BYTES.is(max));
        }
        byte[] body;
        try (InputStream in = exchange.getInputStream()) {
          body = in.readNBytes(max + 1);
        }
        if (body.length > max) {
          throw new ApiError(413, "invalid_request_error", "request_too_large",
              "The request body is larger than " + Settings.Serve.MAX_BODY_BYTES.is(max));
        }
        JsonNode request;
        try {
          request = JSON.readTree(body);
        } catch (JsonProcessingException e) {
          throw ApiError.badRequest("The body is not valid JSON: " + e.getOriginalMessage());
        }
        if (request == null || !request.isObject()) {
          throw ApiError.badRequest("The body must be a JSON object.");
        }
        String model = request.path("model").asText("");
        if (!model.equals(identity.name())) {
          throw new ApiError(404, "invalid_request_error", "model_not_found", model.isEmpty()
              ? "The request names no model; this server serves '" + identity.name() + "'."
              : "Model '" + model + "' is not served here; this server serves '" + identity.name() + "'.");
        }
        send(exchange, 200, endpoint.answer(request, new Work(exchange)));
      } catch (ClientGone e) {
        abandoned.incrementAndGet();
        LOG.info("{}: the client closed its connection after {} of {} inputs; stopped", exchange.getRequestPath(),
            e.done, e.of);
        exchange.getConnection().close();
      } catch (ApiError e) {
        error(exchange, e);
      } catch (RuntimeException e) {
        LOG.error("{} failed", exchange.getRequestPath(), e);
        error(exchange, new ApiError(500, "server_error", null, "The teacher failed: " + e));
      } finally {
        inFlight.decrementAndGet();
      }
    };
  }

  /** A request stopped because its client closed the connection. */
  private static final class ClientGone extends RuntimeException {
    final int done;
    final int of;

    ClientGone(int done, int of) {
      super(null, null, false, false);
      this.done = done;
      this.of = of;
    }
  }

  /**
   * One request's limits, checked between its inputs: its time (serve.request-timeout, from when it got a slot) and
   * its client, probed at most every {@value #PROBE_MS} ms.
   */
  private final class Work {
    private static final long PROBE_MS = 50;
    private final HttpServerExchange exchange;
    private final long started = System.nanoTime();
    private long nextProbe = started;

    Work(HttpServerExchange exchange) {
      this.exchange = exchange;
    }

    /** Throws once the request is out of time (504) or its client has gone; {@code done} of {@code of} inputs. */
    void check(int done, int of) {
      long now = System.nanoTime();
      Duration limit = settings.serve().requestTimeout();
      if (now - started > limit.toNanos()) {
        timedOut.incrementAndGet();
        throw new ApiError(504, "server_error", "timeout", "The request ran longer than "
            + Settings.Serve.REQUEST_TIMEOUT.is(limit) + " (" + done + " of " + of + " inputs done); send fewer "
            + "inputs per request.");
      }
      if (now - nextProbe >= 0) {
        nextProbe = now + TimeUnit.MILLISECONDS.toNanos(PROBE_MS);
        if (clientGone(exchange)) {
          throw new ClientGone(done, of);
        }
      }
    }
  }

  /**
   * Whether the client has closed its connection: a non-blocking read on the socket, past the request already
   * read, ends (as nginx tells an aborted client). Bytes read there (a pipelined next request) are put back.
   */
  private static boolean clientGone(HttpServerExchange exchange) {
    if (!(exchange.getConnection() instanceof HttpServerConnection connection)) {
      return !exchange.getConnection().isOpen();
    }
    PooledByteBuffer pooled = connection.getByteBufferPool().allocate();
    boolean kept = false;
    try {
      int n = connection.getOriginalSourceConduit().read(pooled.getBuffer());
      if (n > 0) {
        pooled.getBuffer().flip();
        connection.ungetRequestBytes(pooled);
        kept = true;
      }
      return n < 0;
    } catch (IOException e) {
      return true;
    } finally {
      if (!kept) {
        pooled.close();
      }
    }
  }

  private ObjectNode embeddings(JsonNode request, Work work) {
    if (embedder == null) {
      throw new ApiError(404, "invalid_request_error", "not_found", "This server's teacher ("
          + settings.teacher().kind() + ") answers POST /v1/chat/completions and /v1/completions, not embeddings.");
    }
    JsonNode input = request.get("input");
    List<String> texts = new ArrayList<>();
    if (input != null && input.isTextual()) {
      texts.add(input.asText());
    } else if (input != null && input.isArray() && input.size() > 0) {
      for (JsonNode t : input) {
        if (!t.isTextual()) {
          throw ApiError.badRequest("'input' must be a string or a list of strings (token-id inputs are not "
              + "supported).");
        }
        texts.add(t.asText());
      }
    } else {
      throw ApiError.badRequest("'input' must be a string or a non-empty list of strings.");
    }
    int maxInputs = settings.serve().maxInputs();
    if (texts.size() > maxInputs) {
      throw ApiError.badRequest("'input' has " + texts.size() + " strings; at most " + maxInputs + " per request ("
          + Settings.Serve.MAX_INPUTS.is(maxInputs) + "): send them in several requests.");
    }
    String format = request.path("encoding_format").asText("float");
    if (!format.equals("float")) {
      throw ApiError.badRequest("encoding_format '" + format + "' is not supported; use float.");
    }
    ObjectNode out = JSON.createObjectNode().put("object", "list");
    ArrayNode data = out.putArray("data");
    long tokens = 0;
    for (int i = 0; i < texts.size(); i++) {
      work.check(i, texts.size());
      ObjectNode e = data.addObject().put("object", "embedding").put("index", i);
      ArrayNode vector = e.putArray("embedding");
      for (float v : embedder.embed(texts.get(i))) {
        vector.add(v);
      }
      tokens += embedder.inputTokens(texts.get(i));
    }
    out.put("model", identity.name());
    out.putObject("usage").put("prompt_tokens", tokens).put("total_tokens", tokens);
    return out;
  }

  private ObjectNode chatCompletions(JsonNode request) {
    if (language != null) {
      return generate(request, lastUserMessage(request.path("messages")), true);
    }
    requireClassifier("chat completions");
    String text = lastUserMessage(request.path("messages"));
    boolean logprobs = request.path("logprobs").asBoolean(false);
    int k = alternatives(request, "top_logprobs");
    LabelTeacher.TopK top = LabelTeacher.TopK.of(classifier.distribution(text), classifier.labels(),
        Math.max(1, k));
    String answer = top.labels()[0];
    ObjectNode out = answerHead("chatcmpl-", "chat.completion", text);
    ObjectNode choice = out.putArray("choices").addObject().put("index", 0).put("finish_reason", "stop");
    choice.putObject("message").put("role", "assistant").put("content", answer);
    if (logprobs) {
      ObjectNode first = choice.putObject("logprobs").putArray("content").addObject()
          .put("token", answer).put("logprob", Math.log(top.probabilities()[0]));
      bytes(first, answer);
      ArrayNode alternatives = first.putArray("top_logprobs");
      for (int i = 0; i < k; i++) {
        ObjectNode alt = alternatives.addObject().put("token", top.labels()[i])
            .put("logprob", Math.log(top.probabilities()[i]));
        bytes(alt, top.labels()[i]);
      }
    } else {
      choice.putNull("logprobs");
    }
    usage(out, text);
    return out;
  }

  /**
   * The language detector as a legacy completion: it reads the whole prompt, answers the most probable label,
   * and with {@code logprobs = k} gives the first token's k most probable labels in the completions form
   * ({@code choices[0].logprobs.top_logprobs[0] = {label: logprob}}).
   */
  private ObjectNode completions(JsonNode request) {
    JsonNode prompt = request.path("prompt");
    if (prompt.isArray() && prompt.size() == 1) {
      prompt = prompt.get(0);
    }
    if (!prompt.isTextual()) {
      throw ApiError.badRequest("'prompt' must be a string (or a list of one string).");
    }
    String text = prompt.asText();
    if (language != null) {
      return generate(request, text, false);
    }
    requireClassifier("completions");
    int k = alternatives(request, "logprobs");
    LabelTeacher.TopK top = LabelTeacher.TopK.of(classifier.distribution(text), classifier.labels(),
        Math.max(1, k));
    String answer = top.labels()[0];
    ObjectNode out = answerHead("cmpl-", "text_completion", text);
    ObjectNode choice = out.putArray("choices").addObject().put("index", 0).put("text", answer)
        .put("finish_reason", "stop");
    if (request.hasNonNull("logprobs")) {
      ObjectNode logprobs = choice.putObject("logprobs");
      logprobs.putArray("tokens").add(answer);
      logprobs.putArray("token_logprobs").add(Math.log(top.probabilities()[0]));
      ObjectNode first = logprobs.putArray("top_logprobs").addObject();
      for (int i = 0; i < k; i++) {
        first.put(top.labels()[i], Math.log(top.probabilities()[i]));
      }
      logprobs.putArray("text_offset").add(0);
    } else {
      choice.putNull("logprobs");
    }
    usage(out, text);
    return out;
  }

  /**
   * The language model's completion of {@code prompt} in the completions form or (chat) the chat form, sampled as
   * the request says (OpenAI's defaults otherwise: temperature 1, top-p 1, 16 tokens, seed 0).
   */
  private ObjectNode generate(JsonNode request, String prompt, boolean chat) {
    if (request.path("n").asInt(1) != 1) {
      throw ApiError.badRequest("'n' must be 1 here: ask once per sample, each with its own seed.");
    }
    int maxTokens = request.path(chat && request.has("max_completion_tokens") ? "max_completion_tokens"
        : "max_tokens").asInt(16);
    double temperature = request.path("temperature").asDouble(1.0);
    double topP = request.path("top_p").asDouble(1.0);
    int topK = Math.max(0, request.path("top_k").asInt(0)); // vLLM's and llama.cpp's extension; -1 = off there
    if (maxTokens < 1 || temperature < 0 || !(topP > 0 && topP <= 1)) {
      throw ApiError.badRequest("max_tokens must be >= 1, temperature >= 0 and top_p in (0, 1]; were " + maxTokens
          + ", " + temperature + ", " + topP);
    }
    List<String> stop = new ArrayList<>();
    JsonNode stopNode = request.path("stop");
    if (stopNode.isTextual()) {
      stop.add(stopNode.asText());
    } else if (stopNode.isArray()) {
      stopNode.forEach(s -> stop.add(s.asText()));
    }
    int k = chat ? (request.path("logprobs").asBoolean(false) ? request.path("top_logprobs").asInt(0) : -1)
        : (request.hasNonNull("logprobs") ? request.path("logprobs").asInt() : -1);
    if (k > language.vocabSize()) {
      throw ApiError.badRequest("at most " + language.vocabSize() + " alternatives, asked for " + k);
    }
    Completion c;
    try {
      c = language.complete(prompt, new Settings.Sampling(temperature, topP, topK, maxTokens, stop,
          request.path("seed").asLong(0)), Math.max(1, k));
    } catch (IllegalArgumentException e) {
      throw ApiError.badRequest(e.getMessage());
    }
    ObjectNode out = answerHead(chat ? "chatcmpl-" : "cmpl-", chat ? "chat.completion" : "text_completion",
        prompt + '\u0000' + request.path("seed").asLong(0));
    ObjectNode choice = out.putArray("choices").addObject().put("index", 0).put("finish_reason", c.finish().wire());
    if (chat) {
      choice.putObject("message").put("role", "assistant").put("content", c.text());
    } else {
      choice.put("text", c.text());
    }
    ArrayNode ids = choice.putArray("token_ids");
    for (int t : c.tokens()) {
      ids.add(t);
    }
    if (k >= 0) {
      logprobs(choice.putObject("logprobs"), c, prompt, k, chat,
          request.path("return_tokens_as_token_ids").asBoolean(false));
    } else {
      choice.putNull("logprobs");
    }
    out.putObject("usage").put("prompt_tokens", c.promptTokens()).put("completion_tokens", c.tokens().length)
        .put("total_tokens", c.promptTokens() + c.tokens().length);
    return out;
  }

  /**
   * Each generated token with its log-probability and k alternatives: chat's content[] or the legacy arrays. With
   * vLLM's {@code return_tokens_as_token_ids}, every token is named "token_id:N" (its bytes are still sent).
   */
  private void logprobs(ObjectNode node, Completion c, String prompt, int k, boolean chat, boolean asIds) {
    int[] promptIds = language.promptTokens(prompt);
    int previous = promptIds[promptIds.length - 1];
    ArrayNode content = chat ? node.putArray("content") : null;
    ArrayNode tokens = chat ? null : node.putArray("tokens");
    ArrayNode tokenLogprobs = chat ? null : node.putArray("token_logprobs");
    ArrayNode top = chat ? null : node.putArray("top_logprobs");
    ArrayNode offsets = chat ? null : node.putArray("text_offset");
    int offset = 0;
    for (int p = 0; p < c.tokens().length; p++) {
      byte[] bytes = language.tokenBytes(previous, c.tokens()[p]);
      String token = asIds ? "token_id:" + c.tokens()[p] : new String(bytes, StandardCharsets.UTF_8);
      if (chat) {
        ObjectNode t = content.addObject().put("token", token).put("logprob", c.tokenLogprobs()[p]);
        putBytes(t, bytes);
        ArrayNode alternatives = t.putArray("top_logprobs");
        for (int i = 0; i < Math.min(k, c.topIds()[p].length); i++) {
          byte[] alt = language.tokenBytes(previous, c.topIds()[p][i]);
          putBytes(alternatives.addObject().put("token", asIds ? "token_id:" + c.topIds()[p][i]
              : new String(alt, StandardCharsets.UTF_8)).put("logprob", c.topLogprobs()[p][i]), alt);
        }
      } else {
        tokens.add(token);
        tokenLogprobs.add(c.tokenLogprobs()[p]);
        ObjectNode alternatives = top.addObject();
        for (int i = 0; i < Math.min(k, c.topIds()[p].length); i++) {
          alternatives.put(asIds ? "token_id:" + c.topIds()[p][i]
              : new String(language.tokenBytes(previous, c.topIds()[p][i]), StandardCharsets.UTF_8),
              c.topLogprobs()[p][i]);
        }
        offsets.add(offset);
        offset += new String(bytes, StandardCharsets.UTF_8).length();
      }
      previous = c.tokens()[p];
    }
  }

  private static void putBytes(ObjectNode node, byte[] bytes) {
    ArrayNode b = node.putArray("bytes");
    for (byte x : bytes) {
      b.add(x & 0xff);
    }
  }

  private void requireClassifier(String what) {
    if (classifier == null) {
      throw new ApiError(404, "invalid_request_error", "not_found", "This server's teacher ("
          + settings.teacher().kind() + ") answers POST /v1/embeddings, not " + what + ".");
    }
  }

  /** The number of alternatives asked for in {@code field}: in [0, the number of labels]. */
  private int alternatives(JsonNode request, String field) {
    int k = request.path(field).isNumber() ? request.path(field).asInt() : 0;
    if (k < 0 || k > classifier.labels().size()) {
      throw ApiError.badRequest("'" + field + "' must be in [0, " + classifier.labels().size() + "], was " + k);
    }
    return k;
  }

  private ObjectNode answerHead(String idPrefix, String object, String text) {
    return JSON.createObjectNode()
        .put("id", idPrefix + Hashing.sha256Hex(identity.modelSha256() + '\u0000' + text).substring(0, 24))
        .put("object", object)
        .put("created", System.currentTimeMillis() / 1000)
        .put("model", identity.name())
        .put("system_fingerprint", "sha256-" + identity.modelSha256().substring(0, 16));
  }

  /** The detector reads characters, not tokens: usage counts the characters it read, and one answer token. */
  private static void usage(ObjectNode out, String text) {
    out.putObject("usage").put("prompt_tokens", text.length()).put("completion_tokens", 1)
        .put("total_tokens", text.length() + 1);
  }

  private static void bytes(ObjectNode node, String token) {
    putBytes(node, token.getBytes(StandardCharsets.UTF_8));
  }

  /** The text of the last user message; content is a string or a list of {type: text, text} parts. */
  private static String lastUserMessage(JsonNode messages) {
    if (!messages.isArray() || messages.isEmpty()) {
      throw ApiError.badRequest("'messages' must be a non-empty list.");
    }
    for (int i = messages.size() - 1; i >= 0; i--) {
      JsonNode m = messages.get(i);
      if (!m.path("role").asText().equals("user")) {
        continue;
      }
      JsonNode content = m.path("content");
      if (content.isTextual()) {
        return content.asText();
      }
      if (content.isArray()) {
        StringBuilder sb = new StringBuilder();
        for (JsonNode part : content) {
          if (part.path("type").asText().equals("text")) {
            sb.append(sb.length() > 0 ? "\n" : "").append(part.path("text").asText());
          }
        }
        return sb.toString();
      }
      throw ApiError.badRequest("messages[" + i + "].content must be a string or a list of text parts.");
    }
    throw ApiError.badRequest("'messages' has no message with role 'user'.");
  }

  private ObjectNode health() {
    ObjectNode out = JSON.createObjectNode().put("status", "ok");
    out.putObject("requests").put("in_flight", inFlight.get()).put("abandoned_by_client", abandoned.get())
        .put("timed_out", timedOut.get());
    out.putObject("teacher").put("name", identity.name()).put("version", identity.version())
        .put("kind", settings.teacher().kind().configName()).put("model_sha256", identity.modelSha256())
        .put("terms", identity.termsId());
    return out;
  }

  private ObjectNode models() {
    ObjectNode out = JSON.createObjectNode().put("object", "list");
    out.putArray("data").addObject().put("id", identity.name()).put("object", "model").put("created", 0)
        .put("owned_by", "distillery");
    return out;
  }

  private static void send(HttpServerExchange exchange, int status, ObjectNode body) throws IOException {
    exchange.setStatusCode(status);
    exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, JSON_TYPE);
    exchange.getResponseSender().send(ByteBuffer.wrap(JSON.writeValueAsBytes(body)));
  }

  private static void error(HttpServerExchange exchange, ApiError e) throws IOException {
    ObjectNode body = JSON.createObjectNode();
    ObjectNode err = body.putObject("error").put("message", e.getMessage()).put("type", e.type);
    if (e.code != null) {
      err.put("code", e.code);
    } else {
      err.putNull("code");
    }
    if (e.status == 503) {
      exchange.getResponseHeaders().put(new HttpString("Retry-After"), "1");
    }
    send(exchange, e.status, body);
  }
}
