package io.distillery.teacher.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.distillery.TestSettings;
import io.distillery.settings.Settings;
import io.distillery.teacher.Completion;
import io.distillery.teacher.Llama2Teacher;
import io.distillery.teacher.OnnxEmbeddingTeacher;
import io.distillery.teacher.OpenNlpLanguageTeacher;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** serve-teacher over real HTTP on loopback, with the JDK's HTTP client as the peer. */
class TeacherServerTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private static Settings embed(Map<String, String> more) {
    Map<String, String> o = new HashMap<>(Map.of("distillery.serve.port", "0"));
    o.putAll(more);
    return TestSettings.withOverrides(o);
  }

  private static HttpResponse<String> post(TeacherServer server, String path, String body, String token)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(url(server, path)).POST(HttpRequest.BodyPublishers.ofString(body))
        .header("Content-Type", "application/json");
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static URI url(TeacherServer server, String path) {
    return URI.create("http://127.0.0.1:" + server.address().getPort() + path);
  }

  @Test
  void embeddingsAreExactlyTheInProcessTeachersAndErrorsSpeakOpenAi() throws Exception {
    Settings s = embed(Map.of());
    try (TeacherServer server = TeacherServer.start(s, Optional.empty())) {
      assertEquals("127.0.0.1", server.address().getAddress().getHostAddress());
      List<String> texts = List.of("The Commission will present its proposal.", "Fish stocks are declining.");
      HttpResponse<String> r = post(server, "/v1/embeddings",
          JSON.writeValueAsString(Map.of("model", s.teacher().name(), "input", texts)), null);
      assertEquals(200, r.statusCode(), r.body());
      JsonNode body = JSON.readTree(r.body());
      assertEquals(s.teacher().name(), body.get("model").asText());
      assertTrue(body.at("/usage/prompt_tokens").asInt() > 10, r.body());
      OnnxEmbeddingTeacher teacher = OnnxEmbeddingTeacher.shared(s.teacher());
      for (int i = 0; i < texts.size(); i++) {
        JsonNode e = body.get("data").get(i);
        assertEquals(i, e.get("index").asInt());
        float[] expected = teacher.embed(texts.get(i));
        assertEquals(expected.length, e.get("embedding").size());
        for (int d = 0; d < expected.length; d++) {
          assertEquals(expected[d], (float) e.get("embedding").get(d).asDouble(), 0f, "dimension " + d);
        }
      }

      HttpResponse<String> wrongModel = post(server, "/v1/embeddings", "{\"model\":\"gpt-x\",\"input\":\"hi\"}", null);
      assertEquals(404, wrongModel.statusCode());
      assertEquals("model_not_found", JSON.readTree(wrongModel.body()).at("/error/code").asText());
      HttpResponse<String> notJson = post(server, "/v1/embeddings", "{\"model\": ", null);
      assertEquals(400, notJson.statusCode());
      assertEquals("invalid_request_error", JSON.readTree(notJson.body()).at("/error/type").asText());
      HttpResponse<String> noInput = post(server, "/v1/embeddings",
          "{\"model\":\"" + s.teacher().name() + "\",\"input\":[1,2]}", null);
      assertEquals(400, noInput.statusCode());
      assertTrue(JSON.readTree(noInput.body()).at("/error/message").asText().contains("list of strings"));
      HttpResponse<String> chat = post(server, "/v1/chat/completions",
          "{\"model\":\"" + s.teacher().name() + "\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", null);
      assertEquals(404, chat.statusCode());
      assertTrue(chat.body().contains("/v1/embeddings"), chat.body());
      HttpResponse<String> health = HTTP.send(HttpRequest.newBuilder(url(server, "/health")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, health.statusCode());
      assertEquals(teacher.identity().modelSha256(), JSON.readTree(health.body()).at("/teacher/model_sha256").asText());
      HttpResponse<String> get = HTTP.send(HttpRequest.newBuilder(url(server, "/v1/embeddings")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(405, get.statusCode());
    }
  }

  private static String embeddingsBody(Settings s, int inputs) throws Exception {
    List<String> texts = new ArrayList<>();
    for (int i = 0; i < inputs; i++) {
      texts.add("Members asked the Commission to publish its figures on regional aid before summer number " + i
          + ", and the committee adopted the report on fisheries after a long debate in the chamber.");
    }
    return JSON.writeValueAsString(Map.of("model", s.teacher().name(), "input", texts));
  }

  private static JsonNode requests(TeacherServer server) throws Exception {
    return JSON.readTree(HTTP.send(HttpRequest.newBuilder(url(server, "/health")).build(),
        HttpResponse.BodyHandlers.ofString()).body()).get("requests");
  }

  private static JsonNode awaitRequests(TeacherServer server, String field, int value) throws Exception {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    JsonNode r = requests(server);
    while (r.get(field).asInt() != value && System.nanoTime() < until) {
      Thread.sleep(20);
      r = requests(server);
    }
    assertEquals(value, r.get(field).asInt(), field + ": " + r);
    return r;
  }

  /**
   * One request of 2,048 inputs, the most OpenAI takes, on a server with one slot: more inputs are refused before
   * any work, and when its client closes the connection half-way, the server stops embedding and frees the slot for
   * the next client (without the check the request ran to its end: nothing counted as abandoned).
   */
  @Test
  void anEmbeddingsRequestHasAtMostMaxInputsAndStopsWhenItsClientGoes() throws Exception {
    Settings s = embed(Map.of("distillery.serve.max-concurrent", "1"));
    try (TeacherServer server = TeacherServer.start(s, Optional.empty())) {
      HttpResponse<String> tooMany = post(server, "/v1/embeddings", embeddingsBody(s, 2049), null);
      assertEquals(400, tooMany.statusCode(), tooMany.body());
      assertTrue(JSON.readTree(tooMany.body()).at("/error/message").asText()
          .contains("2049 strings; at most 2048 per request (serve.max-inputs = 2048)"), tooMany.body());

      byte[] body = embeddingsBody(s, 2048).getBytes(StandardCharsets.UTF_8);
      try (Socket client = new Socket("127.0.0.1", server.address().getPort())) {
        OutputStream out = client.getOutputStream();
        out.write(("POST /v1/embeddings HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
        awaitRequests(server, "in_flight", 1);
        Thread.sleep(300);
      }
      JsonNode after = awaitRequests(server, "abandoned_by_client", 1);
      assertEquals(0, awaitRequests(server, "in_flight", 0).get("timed_out").asInt(), after.toString());
      HttpResponse<String> next = post(server, "/v1/embeddings", embeddingsBody(s, 1), null);
      assertEquals(200, next.statusCode(), "the slot is free again: " + next.body());
    }
  }

  @Test
  void anEmbeddingsRequestLongerThanTheRequestTimeoutGets504AndFreesItsSlot() throws Exception {
    Settings s = embed(Map.of("distillery.serve.max-concurrent", "1", "distillery.serve.request-timeout", "300ms"));
    try (TeacherServer server = TeacherServer.start(s, Optional.empty())) {
      HttpResponse<String> slow = post(server, "/v1/embeddings", embeddingsBody(s, 2048), null);
      assertEquals(504, slow.statusCode(), slow.body());
      JsonNode error = JSON.readTree(slow.body()).get("error");
      assertEquals("timeout", error.get("code").asText(), slow.body());
      assertTrue(error.get("message").asText().matches("The request ran longer than serve.request-timeout = PT0.3S "
          + "\\(\\d+ of 2048 inputs done\\); send fewer inputs per request."), slow.body());
      assertEquals(1, requests(server).get("timed_out").asInt());
      assertEquals(200, post(server, "/v1/embeddings", embeddingsBody(s, 2), null).statusCode());
    }
  }

  @Test
  void aBearerTokenIsRequiredWhenConfigured() throws Exception {
    Settings s = embed(Map.of());
    try (TeacherServer server = TeacherServer.start(s, Optional.of("s3cret"))) {
      String body = "{\"model\":\"" + s.teacher().name() + "\",\"input\":\"hello there\"}";
      assertEquals(401, post(server, "/v1/embeddings", body, null).statusCode());
      HttpResponse<String> wrong = post(server, "/v1/embeddings", body, "guess");
      assertEquals(401, wrong.statusCode());
      assertEquals("invalid_api_key", JSON.readTree(wrong.body()).at("/error/code").asText());
      assertEquals(200, post(server, "/v1/embeddings", body, "s3cret").statusCode());
      assertEquals(200, HTTP.send(HttpRequest.newBuilder(url(server, "/health")).build(),
          HttpResponse.BodyHandlers.ofString()).statusCode(), "health needs no token");
    }
  }

  @Test
  void theLanguageDetectorAnswersChatCompletionsWithItsDistributionInTopLogprobs() throws Exception {
    Settings s = TestSettings.langid(Map.of("distillery.serve.port", "0"));
    try (TeacherServer server = TeacherServer.start(s, Optional.empty())) {
      String text = "La Commission présentera sa proposition au Parlement le mois prochain.";
      HttpResponse<String> r = post(server, "/v1/chat/completions", JSON.writeValueAsString(Map.of(
          "model", s.teacher().name(), "logprobs", true, "top_logprobs", 5,
          "messages", List.of(Map.of("role", "system", "content", "Name the language."),
              Map.of("role", "user", "content", List.of(Map.of("type", "text", "text", text)))))), null);
      assertEquals(200, r.statusCode(), r.body());
      JsonNode body = JSON.readTree(r.body());
      assertEquals("fra", body.at("/choices/0/message/content").asText());
      assertTrue(body.get("system_fingerprint").asText().startsWith("sha256-"));
      JsonNode top = body.at("/choices/0/logprobs/content/0/top_logprobs");
      assertEquals(5, top.size());
      OpenNlpLanguageTeacher teacher = OpenNlpLanguageTeacher.shared(s.teacher());
      float[] p = teacher.distribution(text);
      for (JsonNode alt : top) {
        double expected = p[teacher.labels().indexOf(alt.get("token").asText())];
        assertEquals(expected, Math.exp(alt.get("logprob").asDouble()), 1e-6, alt.toString());
      }
      assertEquals("fra", top.get(0).get("token").asText());
      assertEquals(text.length(), body.at("/usage/prompt_tokens").asInt());
      HttpResponse<String> tooMany = post(server, "/v1/chat/completions", JSON.writeValueAsString(Map.of(
          "model", s.teacher().name(), "logprobs", true, "top_logprobs", 500,
          "messages", List.of(Map.of("role", "user", "content", text)))), null);
      assertEquals(400, tooMany.statusCode());
    }
  }

  @Test
  void theLanguageDetectorAnswersLegacyCompletionsInTheCompletionsForm() throws Exception {
    Settings s = TestSettings.langid(Map.of("distillery.serve.port", "0"));
    try (TeacherServer server = TeacherServer.start(s, Optional.empty())) {
      String text = "Die Kommission wird ihren Vorschlag im nächsten Monat vorlegen.";
      HttpResponse<String> r = post(server, "/v1/completions", JSON.writeValueAsString(Map.of(
          "model", s.teacher().name(), "logprobs", 3, "max_tokens", 1, "prompt", List.of(text))), null);
      assertEquals(200, r.statusCode(), r.body());
      JsonNode body = JSON.readTree(r.body());
      assertEquals("text_completion", body.get("object").asText());
      assertEquals("deu", body.at("/choices/0/text").asText());
      JsonNode top = body.at("/choices/0/logprobs/top_logprobs/0");
      assertEquals(3, top.size());
      OpenNlpLanguageTeacher teacher = OpenNlpLanguageTeacher.shared(s.teacher());
      float[] p = teacher.distribution(text);
      top.fields().forEachRemaining(e -> assertEquals(p[teacher.labels().indexOf(e.getKey())],
          Math.exp(e.getValue().asDouble()), 1e-6, e.getKey()));
      assertEquals("deu", top.fieldNames().next());
      assertEquals(body.at("/choices/0/logprobs/token_logprobs/0").asDouble(), top.get("deu").asDouble());
      assertEquals(text.length(), body.at("/usage/prompt_tokens").asInt());
      HttpResponse<String> noPrompt = post(server, "/v1/completions", JSON.writeValueAsString(Map.of(
          "model", s.teacher().name(), "prompt", 7)), null);
      assertEquals(400, noPrompt.statusCode());
      assertTrue(noPrompt.body().contains("'prompt' must be a string"), noPrompt.body());
    }
  }

  @Test
  void theLanguageModelGeneratesWithLogprobsInBothOpenAiForms() throws Exception {
    Settings s = TestSettings.withOverrides(Map.of("distillery.serve.port", "0", "distillery.task", "language-model",
        "distillery.teacher.kind", "llama2c", "distillery.teacher.name", "stories260K",
        "distillery.teacher.model", "classpath:models/tinystories-260k/stories260K.bin",
        "distillery.teacher.tokenizer", "classpath:models/tinystories-260k/tok512.bin",
        "distillery.student.kind", "none"));
    Llama2Teacher teacher = Llama2Teacher.shared(s.teacher());
    String prompt = "Once upon a time";
    Completion expected = teacher.complete(prompt, new Settings.Sampling(0.8, 0.95, 0, 12, List.of(), 7), 3);
    try (TeacherServer server = TeacherServer.start(s, Optional.empty())) {
      HttpResponse<String> r = post(server, "/v1/completions", JSON.writeValueAsString(Map.of("model", "stories260K",
          "prompt", prompt, "max_tokens", 12, "temperature", 0.8, "top_p", 0.95, "seed", 7, "logprobs", 3)), null);
      assertEquals(200, r.statusCode(), r.body());
      JsonNode c = JSON.readTree(r.body()).at("/choices/0");
      assertEquals(expected.text(), c.get("text").asText(), "the seed's completion, over HTTP as in process");
      assertEquals(expected.finish().wire(), c.get("finish_reason").asText());
      JsonNode lp = c.get("logprobs");
      StringBuilder joined = new StringBuilder();
      for (int p = 0; p < expected.tokens().length; p++) {
        assertEquals(expected.tokens()[p], c.at("/token_ids/" + p).asInt());
        assertEquals(expected.tokenLogprobs()[p], lp.at("/token_logprobs/" + p).asDouble(), 1e-6);
        assertEquals(3, lp.at("/top_logprobs/" + p).size());
        assertEquals(joined.length(), lp.at("/text_offset/" + p).asInt());
        joined.append(lp.at("/tokens/" + p).asText());
      }
      assertEquals(expected.text(), joined.toString(), "the tokens spell the text");
      assertEquals(expected.promptTokens(), JSON.readTree(r.body()).at("/usage/prompt_tokens").asInt());

      HttpResponse<String> chat = post(server, "/v1/chat/completions", JSON.writeValueAsString(Map.of(
          "model", "stories260K", "messages", List.of(Map.of("role", "user", "content", prompt)), "max_tokens", 12,
          "temperature", 0.8, "top_p", 0.95, "seed", 7, "logprobs", true, "top_logprobs", 3)), null);
      assertEquals(200, chat.statusCode(), chat.body());
      JsonNode m = JSON.readTree(chat.body()).at("/choices/0");
      assertEquals(expected.text(), m.at("/message/content").asText());
      JsonNode content = m.at("/logprobs/content");
      assertEquals(expected.tokens().length, content.size());
      for (int p = 0; p < content.size(); p++) {
        assertEquals(expected.tokenLogprobs()[p], content.get(p).get("logprob").asDouble(), 1e-6);
        assertEquals(expected.topLogprobs()[p][0], content.get(p).at("/top_logprobs/0/logprob").asDouble(), 1e-6);
      }
      HttpResponse<String> many = post(server, "/v1/completions", JSON.writeValueAsString(Map.of(
          "model", "stories260K", "prompt", prompt, "n", 2)), null);
      assertEquals(400, many.statusCode());
      assertTrue(many.body().contains("'n' must be 1"), many.body());
    }
  }

  @Test
  void beyondItsConcurrencyAndQueueTheServerRefusesWith503AndRetryAfter() throws Exception {
    Settings s = embed(Map.of("distillery.serve.max-concurrent", "1", "distillery.serve.max-queued", "1"));
    List<String> many = new ArrayList<>();
    for (int i = 0; i < 150; i++) {
      many.add("Sentence number " + i + " keeps the teacher busy for a while, one input at a time.");
    }
    try (TeacherServer server = TeacherServer.start(s, Optional.empty())) {
      String body = JSON.writeValueAsString(Map.of("model", s.teacher().name(), "input", many));
      List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        calls.add(HTTP.sendAsync(HttpRequest.newBuilder(url(server, "/v1/embeddings"))
            .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString()));
      }
      int ok = 0;
      int refused = 0;
      for (CompletableFuture<HttpResponse<String>> c : calls) {
        HttpResponse<String> r = c.get();
        if (r.statusCode() == 200) {
          ok++;
        } else {
          assertEquals(503, r.statusCode(), r.body());
          assertEquals("1", r.headers().firstValue("Retry-After").orElse(""));
          assertEquals("overloaded", JSON.readTree(r.body()).at("/error/code").asText());
          refused++;
        }
      }
      assertTrue(ok >= 1 && refused >= 1, ok + " answered, " + refused + " refused");
    }
  }
}
