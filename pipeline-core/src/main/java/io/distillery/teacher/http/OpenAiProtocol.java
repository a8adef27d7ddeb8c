package io.distillery.teacher.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.distillery.settings.Settings;
import io.distillery.teacher.LabelTeacher;
import io.distillery.teacher.TeacherAnswer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

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
 *   <li>Who answered: {@code model}, {@code system_fingerprint} (when sent) and {@code usage}.
 * </ul>
 */
public final class OpenAiProtocol {
  /** Sorted keys, so that equal requests are equal bytes (the cache key hashes them). */
  static final ObjectMapper JSON = new ObjectMapper().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);

  private OpenAiProtocol() {}

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
   * The request body for one input text, in canonical form (sorted keys, no whitespace). Chat: the system prompt
   * (if any) as the system message, the text as the user message. Completions: the prompt is the system prompt
   * and a blank line (if any), then the text.
   */
  static String requestBody(Settings.Teacher spec, String text) {
    ObjectNode body = JSON.createObjectNode().put("model", spec.model());
    String system = spec.http().systemPrompt();
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
    if (spec.kind().completes()) {
      body.put("max_tokens", spec.http().maxCompletionTokens()).put("temperature", 0);
    }
    try {
      return JSON.writeValueAsString(JSON.treeToValue(body, Object.class));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
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
  public static RemoteAnswer read(Settings.Teacher spec, JsonNode response) {
    if (!spec.remote()) {
      throw notRemote(spec);
    }
    TeacherAnswer answer = switch (spec.kind().answer()) {
      case EMBEDDING -> new TeacherAnswer.Embedding(embedding(response));
      case LABELS -> new TeacherAnswer.Labels(topLabels(response, spec.http().labels(), spec.topK()));
      case COMPLETION -> throw notRemote(spec); // only in-process teachers complete prompts so far
    };
    return new RemoteAnswer(answer, served(response, spec.model()));
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
