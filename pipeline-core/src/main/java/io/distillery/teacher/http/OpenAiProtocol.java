package io.distillery.teacher.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.distillery.settings.Settings;
import io.distillery.teacher.Completion;
import io.distillery.teacher.LabelTeacher;
import io.distillery.teacher.TeacherAnswer;
import io.distillery.util.Hashing;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The OpenAI-compatible wire format, both ways: request bodies for {@code /embeddings}, {@code /chat/completions}
 * and {@code /completions}, and the answers read from the response variants real servers send.
 *
 * <ul>
 *   <li>Embeddings: {@code data[0].embedding} (OpenAI, vLLM, llama.cpp's {@code /v1/embeddings}).
 *   <li>Label distributions, from the first answer token's alternatives: {@code choices[0].logprobs.content[0]
 *       .top_logprobs[{token, logprob}]} (OpenAI chat, vLLM, llama.cpp), {@code choices[0].logprobs.top_logprobs[0]
 *       {token: logprob}} (the completions form, which vLLM also sends), and llama.cpp's native
 *       {@code completion_probabilities[0].top_logprobs[{token, logprob}]} or {@code .probs[{tok_str, prob}]}.
 *   <li>Completions (task language-model): the text ({@code choices[0].message.content}, {@code choices[0].text},
 *       llama.cpp's {@code content}), the finish reason, and per generated position the token, its log-probability
 *       and its alternatives: {@code choices[0].logprobs.content[{token, logprob, top_logprobs}]} (OpenAI chat, vLLM,
 *       llama.cpp), the legacy arrays {@code logprobs.tokens / token_logprobs / top_logprobs[{token: logprob}]},
 *       or llama.cpp's {@code completion_probabilities}. Token ids come from a numeric {@code id} (llama.cpp),
 *       from tokens sent as {@code "token_id:N"} (vLLM's {@code return_tokens_as_token_ids}) or from
 *       {@code choices[0].token_ids}; without them the completion is text only ({@link Completion#hasTokenIds}).
 *   <li>Who answered: {@code model}, {@code system_fingerprint} (when sent) and {@code usage}.
 * </ul>
 */
public final class OpenAiProtocol {
  /** Sorted keys, so that equal requests are equal bytes (the cache key hashes them). */
  static final ObjectMapper JSON = new ObjectMapper().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);

  private static final Pattern TOKEN_ID = Pattern.compile("token_id:(\\d+)");

  private OpenAiProtocol() {}

  /**
   * One request: the text asked about and, for a teacher that generates ({@link Settings.Teacher#generates}), how
   * to sample its answer, the sample's own seed included.
   */
  public record Request(String text, Optional<Settings.Sampling> sampling) {
    public Request {
      Objects.requireNonNull(text, "text");
      Objects.requireNonNull(sampling, "sampling");
    }

    /** A request for a label distribution or an embedding. */
    public static Request of(String text) {
      return new Request(text, Optional.empty());
    }

    /** A request for a completion, sampled as {@code sampling} says. */
    public static Request sampled(String text, Settings.Sampling sampling) {
      return new Request(text, Optional.of(sampling));
    }

    Request withText(String other) {
      return new Request(other, sampling);
    }
  }

  /** What the server says about the answer: the model it used, its fingerprint, the tokens it counted. */
  public record Served(String model, String systemFingerprint, long promptTokens, long completionTokens) {
    public long totalTokens() {
      return promptTokens + completionTokens;
    }
  }

  /** A parsed answer: what the teacher answered, typed, and what the server said about it. */
  public record RemoteAnswer(TeacherAnswer answer, Served served) {}

  /** The endpoint path of a remote teacher; an in-process one is an error. */
  static String path(Settings.Teacher spec) {
    return spec.kind().path().orElseThrow(() -> notRemote(spec));
  }

  private static IllegalArgumentException notRemote(Settings.Teacher spec) {
    return new IllegalArgumentException(Settings.Teacher.KIND.is(spec.kind()) + " is not a remote teacher");
  }

  /**
   * The request body, in canonical form (sorted keys, no whitespace). Chat: the system prompt (if any) as the
   * system message, the text as the user message. Completions: the prompt is the system prompt and a blank line
   * (if any), then the text. A generating teacher's body carries the request's sampling and asks for every
   * position's top-k; a classifying one's asks for one greedy token.
   */
  static String requestBody(Settings.Teacher spec, Request request) {
    ObjectNode body = JSON.createObjectNode().put("model", spec.model());
    String system = spec.http().systemPrompt();
    String text = request.text();
    switch (spec.kind()) {
      case OPENAI_EMBEDDINGS -> body.put("input", text);
      case OPENAI_CHAT -> {
        var messages = body.putArray("messages");
        if (!system.isEmpty()) {
          messages.addObject().put("role", "system").put("content", system);
        }
        messages.addObject().put("role", "user").put("content", text);
        body.put("logprobs", true).put("top_logprobs", spec.topK());
      }
      case OPENAI_COMPLETIONS -> body.put("prompt", system.isEmpty() ? text : system + "\n\n" + text)
          .put("logprobs", spec.topK()); // the completions API's logprobs is the number of alternatives
      case ONNX_EMBEDDING, OPENNLP_LANGDETECT, LLAMA2C -> throw notRemote(spec);
    }
    if (spec.generates()) {
      Settings.Sampling s = request.sampling().orElseThrow(() -> new IllegalArgumentException(
          "a request to a generating teacher needs its sampling"));
      body.put("max_tokens", s.maxTokens()).put("temperature", s.temperature()).put("top_p", s.topP())
          .put("seed", s.seed());
      if (!s.stop().isEmpty()) {
        s.stop().forEach(body.putArray("stop")::add);
      }
      if (s.topK() > 0) {
        body.put("top_k", s.topK());
      }
      if (spec.http().returnTokenIds()) {
        body.put("return_tokens_as_token_ids", true);
      }
    } else if (spec.kind().completes()) {
      body.put("max_tokens", spec.http().maxCompletionTokens()).put("temperature", 0);
    }
    try {
      return JSON.writeValueAsString(JSON.treeToValue(body, Object.class));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The response cache's key of a request: the content hash of the endpoint, the canonical body with an empty input
   * (model and parameters, a sample's seed included) and the input. Equal requests have equal keys in every run, so a
   * later run reuses an earlier one's answers; a change to the model or any parameter is a new key.
   */
  public static String requestKey(Settings.Teacher spec, Request request) {
    return Hashing.sha256Hex(spec.http().baseUrl() + path(spec) + '\u0000' + requestBody(spec, request.withText(""))
        + '\u0000' + request.text());
  }

  /**
   * Tokens a request is estimated to use before it is sent: its characters / teacher.http.chars-per-token, plus the
   * answer's most (generate.sampling.max-tokens when generating, teacher.http.max-completion-tokens for labels).
   */
  public static long estimateTokens(Settings.Teacher spec, Request request) {
    long prompt = (long) Math.ceil(request.text().length() / spec.http().charsPerToken());
    long answer = spec.generates() ? request.sampling().map(Settings.Sampling::maxTokens).orElse(0)
        : spec.kind().completes() ? spec.http().maxCompletionTokens() : 0;
    return prompt + answer;
  }

  /** Parses a response body; a body that is not JSON (e.g. truncated) is a retryable failure. */
  public static JsonNode parse(int status, String body) {
    try {
      JsonNode node = JSON.readTree(body);
      if (node == null || !node.isObject()) {
        throw new IOException("not a JSON object");
      }
      return node;
    } catch (IOException e) {
      throw new TeacherHttpException(status, true, null, "malformed response body (" + e.getMessage().lines()
          .findFirst().orElse("") + "): " + abbreviate(body), null);
    }
  }

  /** The message of an OpenAI error body ({@code error.message}), else the body itself, shortened. */
  public static String errorMessage(String body) {
    try {
      JsonNode node = JSON.readTree(body);
      if (node != null && node.path("error").path("message").isTextual()) {
        return node.path("error").path("message").asText();
      }
      if (node != null && node.path("error").isTextual()) {
        return node.path("error").asText();
      }
    } catch (IOException e) {
      // not JSON: the body itself says what happened
    }
    return abbreviate(body);
  }

  public static Served served(JsonNode response, String requestedModel) {
    JsonNode usage = response.path("usage");
    return new Served(response.path("model").asText(requestedModel),
        response.hasNonNull("system_fingerprint") ? response.get("system_fingerprint").asText() : null,
        usage.path("prompt_tokens").asLong(0), usage.path("completion_tokens").asLong(0));
  }

  /**
   * What a response body answers, typed by the teacher's kind (an embedding, or the top labels), and what the server
   * said about it; an answer that cannot be read throws a non-retryable {@link TeacherHttpException}.
   */
  public static RemoteAnswer read(Settings.Teacher spec, Request request, JsonNode response) {
    if (!spec.remote()) {
      throw notRemote(spec);
    }
    Served served = served(response, spec.model());
    TeacherAnswer answer = switch (spec.answer()) {
      case EMBEDDING -> new TeacherAnswer.Embedding(embedding(response));
      case LABELS -> new TeacherAnswer.Labels(topLabels(response, spec.http().labels(), spec.topK()));
      case COMPLETION -> {
        Completion c = completion(response, request.sampling().orElseThrow(() -> new IllegalArgumentException(
            "a request to a generating teacher needs its sampling")), spec.topK(), (int) served.promptTokens());
        if (served.completionTokens() == 0 && c.tokenLogprobs().length > 0) { // no usage sent: count positions
          served = new Served(served.model(), served.systemFingerprint(), served.promptTokens(),
              c.tokenLogprobs().length);
        }
        yield new TeacherAnswer.Completed(c);
      }
    };
    return new RemoteAnswer(answer, served);
  }

  /** One generated position as a server sent it: the token, its id if sent, its log-probability, alternatives. */
  private record Position(String token, Integer id, double logprob, List<Alternative> alternatives) {}

  private record Alternative(String token, Integer id, double logprob) {}

  /**
   * A generated answer as a {@link Completion} with the {@code k} most probable alternatives per position, most
   * probable first. Ids are kept only when every generated token has one (and the alternatives only when every one
   * of them has one too); a server that sends fewer than {@code k} alternatives is an error that says so.
   */
  public static Completion completion(JsonNode response, Settings.Sampling sampling, int k, int promptTokens) {
    JsonNode choice = response.path("choices").path(0);
    String text;
    if (choice.path("message").path("content").isTextual()) {
      text = choice.path("message").path("content").asText();
    } else if (choice.path("text").isTextual()) {
      text = choice.path("text").asText();
    } else if (response.path("content").isTextual()) { // llama.cpp's own /completion
      text = response.path("content").asText();
    } else {
      throw unreadable("no choices[0].message.content or choices[0].text (is it a chat or completions answer?)",
          response);
    }
    List<Position> positions = positions(choice, response);
    if (positions.isEmpty() && !text.isEmpty()) {
      throw unreadable("no logprobs for the completion (the request asked for them; does the server support "
          + "logprobs?)", response);
    }
    int n = positions.size();
    float[] logprobs = new float[n];
    for (int p = 0; p < n; p++) {
      logprobs[p] = (float) positions.get(p).logprob();
    }
    int[] ids = sampledIds(choice, positions);
    int[][] topIds = new int[0][];
    float[][] topLogprobs = new float[0][];
    if (ids.length == n && n > 0 && positions.stream().allMatch(p -> p.alternatives().stream()
        .allMatch(a -> a.id() != null))) {
      topIds = new int[n][k];
      topLogprobs = new float[n][k];
      for (int p = 0; p < n; p++) {
        List<Alternative> alternatives = positions.get(p).alternatives();
        if (alternatives.size() < k) {
          throw unreadable("position " + p + " has " + alternatives.size() + " alternatives, fewer than "
              + Settings.Teacher.TOP_K.is(k) + " (lower it to what the server sends; OpenAI sends at most 20)",
              response);
        }
        for (int i = 0; i < k; i++) {
          topIds[p][i] = alternatives.get(i).id();
          topLogprobs[p][i] = (float) alternatives.get(i).logprob();
        }
      }
    }
    return new Completion(text, ids, logprobs, topIds, topLogprobs, finish(choice, response, n, sampling),
        promptTokens, sampling);
  }

  /** The generated positions in any supported form, each position's alternatives most probable first. */
  private static List<Position> positions(JsonNode choice, JsonNode response) {
    List<Position> out = new ArrayList<>();
    JsonNode logprobs = choice.path("logprobs");
    JsonNode content = logprobs.path("content");
    JsonNode completionProbabilities = response.path("completion_probabilities");
    if (content.isArray()) {
      content.forEach(e -> out.add(new Position(e.path("token").asText(), id(e), e.path("logprob").asDouble(),
          alternativesOf(e.path("top_logprobs")))));
    } else if (logprobs.path("tokens").isArray()) {
      JsonNode tokens = logprobs.path("tokens");
      for (int p = 0; p < tokens.size(); p++) {
        String token = tokens.get(p).asText();
        List<Alternative> alternatives = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = logprobs.path("top_logprobs").path(p).fields();
            it.hasNext(); ) {
          Map.Entry<String, JsonNode> a = it.next();
          alternatives.add(new Alternative(a.getKey(), id(a.getKey()), a.getValue().asDouble()));
        }
        alternatives.sort(Comparator.comparingDouble(Alternative::logprob).reversed());
        out.add(new Position(token, id(token), logprobs.path("token_logprobs").path(p).asDouble(), alternatives));
      }
    } else if (completionProbabilities.isArray()) {
      completionProbabilities.forEach(e -> {
        if (e.has("top_logprobs")) {
          out.add(new Position(e.path("token").asText(), id(e), e.path("logprob").asDouble(),
              alternativesOf(e.path("top_logprobs"))));
        } else { // older llama.cpp: {content, probs: [{tok_str, prob}]}
          String token = e.path("content").asText();
          List<Alternative> alternatives = new ArrayList<>();
          e.path("probs").forEach(a -> alternatives.add(new Alternative(a.path("tok_str").asText(), null,
              Math.log(a.path("prob").asDouble()))));
          double logprob = alternatives.stream().filter(a -> a.token().equals(token)).findFirst()
              .map(Alternative::logprob).orElse(Double.NaN);
          out.add(new Position(token, id(e), logprob, alternatives));
        }
      });
    }
    return out;
  }

  private static List<Alternative> alternativesOf(JsonNode array) {
    List<Alternative> out = new ArrayList<>();
    array.forEach(a -> out.add(new Alternative(a.path("token").asText(), id(a), a.path("logprob").asDouble())));
    out.sort(Comparator.comparingDouble(Alternative::logprob).reversed());
    return out;
  }

  /** A token's id: a numeric {@code id} field (llama.cpp), else its token string as vLLM's "token_id:N". */
  private static Integer id(JsonNode entry) {
    return entry.path("id").isIntegralNumber() ? Integer.valueOf(entry.path("id").asInt())
        : id(entry.path("token").asText());
  }

  private static Integer id(String token) {
    Matcher m = TOKEN_ID.matcher(token);
    return m.matches() ? Integer.valueOf(m.group(1)) : null;
  }

  /** The generated tokens' ids, from the positions or from choices[0].token_ids; empty when not all are known. */
  private static int[] sampledIds(JsonNode choice, List<Position> positions) {
    if (!positions.isEmpty() && positions.stream().allMatch(p -> p.id() != null)) {
      return positions.stream().mapToInt(Position::id).toArray();
    }
    JsonNode ids = choice.path("token_ids");
    if (ids.isArray() && ids.size() == positions.size()) {
      int[] out = new int[ids.size()];
      for (int i = 0; i < out.length; i++) {
        out[i] = ids.get(i).asInt();
      }
      return out;
    }
    return new int[0];
  }

  /**
   * Why it ended: finish_reason (or llama.cpp's stop_type); when the server says nothing, length if it generated
   * the most tokens asked for, else stop.
   */
  private static Completion.Finish finish(JsonNode choice, JsonNode response, int positions,
      Settings.Sampling sampling) {
    JsonNode reason = choice.path("finish_reason").isTextual() ? choice.path("finish_reason")
        : response.path("stop_type");
    if (!reason.isTextual()) {
      return positions >= sampling.maxTokens() ? Completion.Finish.LENGTH : Completion.Finish.STOP;
    }
    return switch (reason.asText()) {
      case "stop", "eos", "word" -> Completion.Finish.STOP;
      case "length", "limit" -> Completion.Finish.LENGTH;
      case "content_filter" -> Completion.Finish.CONTENT_FILTER;
      default -> throw unreadable("finish_reason '" + reason.asText() + "' is not a completion's (stop, length, "
          + "content_filter)", response);
    };
  }

  /** The embedding of a {@code /embeddings} answer, L2-normalised. */
  public static float[] embedding(JsonNode response) {
    JsonNode vector = response.path("data").path(0).path("embedding");
    if (!vector.isArray() || vector.isEmpty()) {
      throw unreadable("no data[0].embedding array", response);
    }
    float[] v = new float[vector.size()];
    double norm = 0;
    for (int i = 0; i < v.length; i++) {
      if (!vector.get(i).isNumber()) {
        throw unreadable("data[0].embedding[" + i + "] is not a number", response);
      }
      v[i] = (float) vector.get(i).asDouble();
      norm += v[i] * (double) v[i];
    }
    if (!(norm > 0) || Double.isInfinite(norm)) {
      throw unreadable("the embedding's norm is " + Math.sqrt(norm), response);
    }
    float scale = (float) (1 / Math.sqrt(norm));
    for (int i = 0; i < v.length; i++) {
      v[i] *= scale;
    }
    return v;
  }

  /**
   * The label distribution of a chat or completions answer: the first answer token's alternatives, with
   * surrounding white space trimmed, read against {@code labels} (empty: any label). Alternatives outside the
   * labels are dropped; tokens that trim to the same label are added up. The k most probable, highest first.
   */
  public static LabelTeacher.TopK topLabels(JsonNode response, List<String> labels, int k) {
    Map<String, Double> alternatives = alternatives(response);
    if (alternatives == null) {
      throw unreadable("no logprobs of the first answer token (send logprobs and top_logprobs; is it a "
          + "chat/completions answer?)", response);
    }
    Map<String, Float> byLabel = new LinkedHashMap<>();
    Set<String> allowed = new HashSet<>(labels);
    for (Map.Entry<String, Double> a : alternatives.entrySet()) {
      String label = a.getKey().strip();
      if (!label.isEmpty() && (allowed.isEmpty() || allowed.contains(label))) {
        byLabel.merge(label, (float) a.getValue().doubleValue(), Float::sum);
      }
    }
    if (byLabel.isEmpty()) {
      throw unreadable("none of the answer's top tokens " + alternatives.keySet() + " is a label of "
          + Settings.Http.LABELS.path(), response);
    }
    List<String> names = new ArrayList<>(byLabel.keySet());
    float[] probabilities = new float[names.size()];
    for (int i = 0; i < probabilities.length; i++) {
      probabilities[i] = Math.min(1f, byLabel.get(names.get(i)));
    }
    return LabelTeacher.TopK.of(probabilities, names, k);
  }

  /** token → probability of the first answer token's alternatives, in any supported form; null if none. */
  private static Map<String, Double> alternatives(JsonNode response) {
    Map<String, Double> out = new LinkedHashMap<>();
    JsonNode logprobs = response.path("choices").path(0).path("logprobs");
    JsonNode content = logprobs.path("content").path(0).path("top_logprobs");
    if (content.isArray() && !content.isEmpty()) {
      content.forEach(a -> out.merge(a.path("token").asText(), Math.exp(a.path("logprob").asDouble()), Double::sum));
      return out;
    }
    JsonNode legacy = logprobs.path("top_logprobs").path(0);
    if (legacy.isObject() && !legacy.isEmpty()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = legacy.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        out.merge(e.getKey(), Math.exp(e.getValue().asDouble()), Double::sum);
      }
      return out;
    }
    JsonNode llama = response.path("completion_probabilities").path(0);
    if (llama.path("top_logprobs").isArray() && !llama.path("top_logprobs").isEmpty()) {
      llama.path("top_logprobs").forEach(a -> out.merge(a.path("token").asText(),
          Math.exp(a.path("logprob").asDouble()), Double::sum));
      return out;
    }
    if (llama.path("probs").isArray() && !llama.path("probs").isEmpty()) {
      llama.path("probs").forEach(a -> out.merge(a.path("tok_str").asText(), a.path("prob").asDouble(), Double::sum));
      return out;
    }
    return null;
  }

  private static TeacherHttpException unreadable(String what, JsonNode response) {
    return new TeacherHttpException(200, false, null, "unreadable answer: " + what + ": "
        + abbreviate(response.toString()), null);
  }

  static String abbreviate(String s) {
    String one = s == null ? "" : s.replaceAll("\\s+", " ").strip();
    return one.length() <= 300 ? one : one.substring(0, 300) + "…";
  }
}
