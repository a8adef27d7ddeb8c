package io.distillery.teacher.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.distillery.TestSettings;
import io.distillery.settings.Settings;
import io.distillery.teacher.LabelTeacher;
import java.net.http.HttpHeaders;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The response variants real servers send, read the same way; requests in canonical form. */
class OpenAiProtocolTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static JsonNode json(String s) throws Exception {
    return JSON.readTree(s);
  }

  @Test
  void theFirstTokensAlternativesAreReadFromEveryKnownForm() throws Exception {
    double fra = Math.log(0.7);
    double ita = Math.log(0.2);
    JsonNode chat = json("{\"model\":\"m-2024\",\"system_fingerprint\":\"fp_1\",\"choices\":[{\"index\":0,"
        + "\"message\":{\"role\":\"assistant\",\"content\":\"fra\"},\"logprobs\":{\"content\":[{\"token\":\"fra\","
        + "\"logprob\":" + fra + ",\"top_logprobs\":[{\"token\":\"fra\",\"logprob\":" + fra + "},{\"token\":\" ita\","
        + "\"logprob\":" + ita + "},{\"token\":\"<|eot|>\",\"logprob\":-9}]}]}}],"
        + "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":1,\"total_tokens\":13}}");
    JsonNode completions = json("{\"model\":\"m\",\"choices\":[{\"text\":\"fra\",\"logprobs\":{\"tokens\":[\"fra\"],"
        + "\"token_logprobs\":[" + fra + "],\"top_logprobs\":[{\"fra\":" + fra + ",\"ita\":" + ita + "}]}}]}");
    JsonNode llamaNew = json("{\"content\":\"fra\",\"completion_probabilities\":[{\"token\":\"fra\",\"logprob\":" + fra
        + ",\"top_logprobs\":[{\"token\":\"fra\",\"logprob\":" + fra + "},{\"token\":\"ita\",\"logprob\":" + ita + "}]}]}");
    JsonNode llamaOld = json("{\"content\":\"fra\",\"completion_probabilities\":[{\"content\":\"fra\",\"probs\":["
        + "{\"tok_str\":\"fra\",\"prob\":0.7},{\"tok_str\":\"ita\",\"prob\":0.2}]}]}");
    for (JsonNode answer : List.of(chat, completions, llamaNew, llamaOld)) {
      LabelTeacher.TopK top = OpenAiProtocol.topLabels(answer, List.of("fra", "ita", "deu"), 5);
      assertArrayEquals(new String[] {"fra", "ita"}, top.labels(), answer.toString());
      assertEquals(0.7f, top.probabilities()[0], 1e-6f);
      assertEquals(0.2f, top.probabilities()[1], 1e-6f);
    }
    LabelTeacher.TopK any = OpenAiProtocol.topLabels(chat, List.of(), 2);
    assertArrayEquals(new String[] {"fra", "ita"}, any.labels(), "k = 2 of three tokens, white space trimmed");

    OpenAiProtocol.Served served = OpenAiProtocol.served(chat, "asked-for");
    assertEquals(new OpenAiProtocol.Served("m-2024", "fp_1", 12, 1), served);
    OpenAiProtocol.Served bare = OpenAiProtocol.served(llamaOld, "asked-for");
    assertEquals("asked-for", bare.model());
    assertNull(bare.systemFingerprint());

    TeacherHttpException none = assertThrows(TeacherHttpException.class,
        () -> OpenAiProtocol.topLabels(chat, List.of("deu"), 5));
    assertFalse(none.retryable(), "an answer outside the labels will not change on retry");
    assertEquals("unreadable_answer", none.errorClass());
    assertThrows(TeacherHttpException.class, () -> OpenAiProtocol.topLabels(json("{\"choices\":[{}]}"), List.of(), 5));
  }

  @Test
  void embeddingsAreNormalisedAndBadBodiesAreClassified() throws Exception {
    float[] v = OpenAiProtocol.embedding(json("{\"object\":\"list\",\"data\":[{\"object\":\"embedding\",\"index\":0,"
        + "\"embedding\":[3,4]}],\"model\":\"e\",\"usage\":{\"prompt_tokens\":2,\"total_tokens\":2}}"));
    assertArrayEquals(new float[] {0.6f, 0.8f}, v, 1e-6f);
    assertFalse(assertThrows(TeacherHttpException.class,
        () -> OpenAiProtocol.embedding(json("{\"data\":[{\"embedding\":[0,0]}]}"))).retryable());
    TeacherHttpException cut = assertThrows(TeacherHttpException.class,
        () -> OpenAiProtocol.parse(200, "{\"data\":[{\"embedding\":[0.1,"));
    assertTrue(cut.retryable(), "a truncated body is worth another attempt");
    assertEquals("malformed_response", cut.errorClass());
    assertTrue(assertThrows(TeacherHttpException.class, () -> OpenAiProtocol.parse(200, "<html><h1>502</h1>"))
        .retryable(), "a proxy's HTML page is worth another attempt");
  }

  @Test
  void requestBodiesAreCanonicalAndCarryTheParameters() throws Exception {
    Settings chat = TestSettings.langid(Map.of("distillery.teacher.kind", "openai-chat",
        "distillery.teacher.model", "gpt-test", "distillery.teacher.http.base-url", "http://127.0.0.1:1/v1",
        "distillery.teacher.http.system-prompt", "Answer with the ISO 639-3 code."));
    String body = OpenAiProtocol.requestBody(chat.teacher(), "Guten Tag");
    assertEquals(body, OpenAiProtocol.requestBody(chat.teacher(), "Guten Tag"));
    JsonNode n = json(body);
    assertEquals("gpt-test", n.get("model").asText());
    assertEquals(chat.teacher().topK(), n.get("top_logprobs").asInt());
    assertTrue(n.get("logprobs").asBoolean());
    assertEquals("system", n.at("/messages/0/role").asText());
    assertEquals("Guten Tag", n.at("/messages/1/content").asText());
    assertTrue(body.indexOf("\"logprobs\"") < body.indexOf("\"max_tokens\"") && body.indexOf("\"max_tokens\"")
        < body.indexOf("\"messages\""), "keys sorted: " + body);
    Settings completions = TestSettings.langid(Map.of("distillery.teacher.kind", "openai-completions",
        "distillery.teacher.model", "base-test", "distillery.teacher.http.base-url", "http://127.0.0.1:1/v1",
        "distillery.teacher.http.system-prompt", "Language:", "distillery.teacher.top-k", "4"));
    assertEquals("/completions", OpenAiProtocol.path(completions.teacher()));
    assertEquals("{\"logprobs\":4,\"max_tokens\":1,\"model\":\"base-test\",\"prompt\":\"Language:\\n\\nGuten Tag\","
        + "\"temperature\":0}", OpenAiProtocol.requestBody(completions.teacher(), "Guten Tag"));
  }

  @Test
  void retryAfterAndRateLimitResetHeadersAreRead() {
    assertEquals(Duration.ofMillis(1500), HttpTeacherClient.retryAfter(headers(Map.of("Retry-After", "1.5"))).get());
    assertEquals(Duration.ofSeconds(360), HttpTeacherClient.retryAfter(headers(Map.of("x-ratelimit-reset-requests",
        "6m0s", "x-ratelimit-reset-tokens", "20ms"))).get());
    assertEquals(Duration.ofMillis(3_723_500), HttpTeacherClient.duration("1h2m3.5s").get());
    assertTrue(HttpTeacherClient.duration("soon").isEmpty());
    assertTrue(HttpTeacherClient.retryAfter(headers(Map.of())).isEmpty());
  }

  private static HttpHeaders headers(Map<String, String> h) {
    Map<String, List<String>> m = new HashMap<>();
    h.forEach((k, v) -> m.put(k, List.of(v)));
    return HttpHeaders.of(m, (a, b) -> true);
  }
}
