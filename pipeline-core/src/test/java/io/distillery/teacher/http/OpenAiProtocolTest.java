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
import io.distillery.teacher.Completion;
import io.distillery.teacher.LabelTeacher;
import io.distillery.teacher.TeacherAnswer;
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
    String body = OpenAiProtocol.requestBody(chat.teacher(), OpenAiProtocol.Request.of("Guten Tag"));
    assertEquals(body, OpenAiProtocol.requestBody(chat.teacher(), OpenAiProtocol.Request.of("Guten Tag")));
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
        + "\"temperature\":0}", OpenAiProtocol.requestBody(completions.teacher(),
            OpenAiProtocol.Request.of("Guten Tag")));
  }

  private static Settings.Teacher generating(String kind, Map<String, String> more) {
    Map<String, String> o = new HashMap<>(Map.of("distillery.teacher.kind", kind,
        "distillery.teacher.model", "tiny", "distillery.teacher.http.base-url", "http://127.0.0.1:1/v1",
        "distillery.teacher.top-k", "2"));
    o.putAll(more);
    return TestSettings.stories(o).teacher();
  }

  private static final Settings.Sampling SAMPLING = new Settings.Sampling(0.8, 0.95, 0, 3, List.of("\n\n"), 42);

  @Test
  void generationRequestsCarryTheSampleAndEachSeedIsItsOwnCacheKey() throws Exception {
    Settings.Teacher chat = generating("openai-chat", Map.of("distillery.teacher.http.return-token-ids", "true"));
    assertTrue(chat.generates());
    JsonNode n = json(OpenAiProtocol.requestBody(chat, OpenAiProtocol.Request.sampled("Once", SAMPLING)));
    assertEquals(3, n.get("max_tokens").asInt());
    assertEquals(0.8, n.get("temperature").asDouble());
    assertEquals(0.95, n.get("top_p").asDouble());
    assertEquals(42, n.get("seed").asLong());
    assertEquals("\n\n", n.at("/stop/0").asText());
    assertEquals(2, n.get("top_logprobs").asInt());
    assertTrue(n.get("return_tokens_as_token_ids").asBoolean());
    assertEquals("Once", n.at("/messages/0/content").asText());
    assertFalse(json(OpenAiProtocol.requestBody(generating("openai-completions", Map.of()),
        OpenAiProtocol.Request.sampled("Once", SAMPLING))).has("return_tokens_as_token_ids"),
        "hosted APIs reject unknown fields: only sent when asked for");
    String key = OpenAiProtocol.requestKey(chat, OpenAiProtocol.Request.sampled("Once", SAMPLING));
    assertEquals(key, OpenAiProtocol.requestKey(chat, OpenAiProtocol.Request.sampled("Once", SAMPLING)));
    assertFalse(key.equals(OpenAiProtocol.requestKey(chat, OpenAiProtocol.Request.sampled("Once",
        SAMPLING.withSeed(43)))), "another sample is another request");
    assertEquals(3 + 3, OpenAiProtocol.estimateTokens(chat, OpenAiProtocol.Request.sampled("Once upon", SAMPLING)),
        "9 characters at 4 a token, plus max_tokens");
    assertThrows(IllegalArgumentException.class, () -> OpenAiProtocol.requestBody(chat,
        OpenAiProtocol.Request.of("Once")), "a generating teacher's request needs its sampling");
  }

  private static Completion read(Settings.Teacher spec, String body) throws Exception {
    OpenAiProtocol.RemoteAnswer a = OpenAiProtocol.read(spec, OpenAiProtocol.Request.sampled("Once", SAMPLING),
        json(body));
    return ((TeacherAnswer.Completed) a.answer()).completion();
  }

  @Test
  void completionsAreReadFromEveryKnownFormWithIdsWhenTheServerSendsThem() throws Exception {
    Settings.Teacher chat = generating("openai-chat", Map.of());
    // vLLM with return_tokens_as_token_ids, chat form: ids in every token string.
    Completion vllm = read(chat, "{\"model\":\"tiny\",\"choices\":[{\"message\":{\"content\":\" upon a\"},"
        + "\"finish_reason\":\"stop\",\"logprobs\":{\"content\":[{\"token\":\"token_id:7\",\"logprob\":-0.5,"
        + "\"top_logprobs\":[{\"token\":\"token_id:9\",\"logprob\":-2.0},{\"token\":\"token_id:7\",\"logprob\":-0.5},"
        + "{\"token\":\"token_id:3\",\"logprob\":-4.0}]},{\"token\":\"token_id:8\",\"logprob\":-0.1,\"top_logprobs\":["
        + "{\"token\":\"token_id:8\",\"logprob\":-0.1},{\"token\":\"token_id:2\",\"logprob\":-3.0}]}]}}],"
        + "\"usage\":{\"prompt_tokens\":2,\"completion_tokens\":2}}");
    assertEquals(" upon a", vllm.text());
    assertArrayEquals(new int[] {7, 8}, vllm.tokens());
    assertArrayEquals(new float[] {-0.5f, -0.1f}, vllm.tokenLogprobs());
    assertArrayEquals(new int[] {7, 9}, vllm.topIds()[0], "the k most probable, most probable first");
    assertArrayEquals(new float[] {-0.5f, -2.0f}, vllm.topLogprobs()[0]);
    assertArrayEquals(new int[] {8, 2}, vllm.topIds()[1]);
    assertEquals(Completion.Finish.STOP, vllm.finish());
    assertEquals(2, vllm.promptTokens());
    assertEquals(42, vllm.sampling().seed());
    assertTrue(vllm.hasTopK());

    // llama.cpp: numeric ids beside the token strings, no usage (the positions count the tokens).
    OpenAiProtocol.RemoteAnswer llama = OpenAiProtocol.read(chat, OpenAiProtocol.Request.sampled("Once", SAMPLING),
        json("{\"choices\":[{\"message\":{\"content\":\" upon\"},\"finish_reason\":\"length\","
        + "\"logprobs\":{\"content\":[{\"id\":7,\"token\":\" upon\",\"logprob\":-0.5,\"bytes\":[32],\"top_logprobs\":["
        + "{\"id\":7,\"token\":\" upon\",\"logprob\":-0.5},{\"id\":9,\"token\":\" a\",\"logprob\":-2.0}]}]}}]}"));
    Completion l = ((TeacherAnswer.Completed) llama.answer()).completion();
    assertArrayEquals(new int[] {7}, l.tokens());
    assertArrayEquals(new int[] {7, 9}, l.topIds()[0]);
    assertEquals(Completion.Finish.LENGTH, l.finish());
    assertEquals(1, llama.served().completionTokens());

    // The legacy completions form: vLLM's ids as dictionary keys (more than k, unordered: the k best are kept).
    Settings.Teacher completions = generating("openai-completions", Map.of());
    Completion legacy = read(completions, "{\"choices\":[{\"text\":\" upon\",\"finish_reason\":\"stop\","
        + "\"logprobs\":{\"tokens\":[\"token_id:7\"],\"token_logprobs\":[-0.5],\"top_logprobs\":[{\"token_id:3\":-4.0,"
        + "\"token_id:9\":-2.0,\"token_id:7\":-0.5}],\"text_offset\":[0]}}]}");
    assertArrayEquals(new int[] {7}, legacy.tokens());
    assertArrayEquals(new int[] {7, 9}, legacy.topIds()[0]);
    // llama.cpp's own /completion form.
    Completion native_ = read(completions, "{\"content\":\" upon\",\"stop_type\":\"limit\","
        + "\"completion_probabilities\":[{\"id\":7,\"token\":\" upon\",\"logprob\":-0.5,\"top_logprobs\":["
        + "{\"id\":9,\"token\":\" a\",\"logprob\":-2.0},{\"id\":7,\"token\":\" upon\",\"logprob\":-0.5}]}]}");
    assertArrayEquals(new int[] {7, 9}, native_.topIds()[0]);
    assertEquals(Completion.Finish.LENGTH, native_.finish());
  }

  @Test
  void answersWithoutIdsAreTextOnlyAndBadAnswersSayWhatIsWrong() throws Exception {
    Settings.Teacher chat = generating("openai-chat", Map.of());
    // OpenAI: token strings and bytes, no ids.
    Completion openai = read(chat, "{\"model\":\"gpt-x\",\"system_fingerprint\":\"fp_9\",\"choices\":[{\"message\":"
        + "{\"content\":\" upon\"},\"finish_reason\":\"content_filter\",\"logprobs\":{\"content\":[{\"token\":\" upon\","
        + "\"logprob\":-0.5,\"bytes\":[32,117,112,111,110],\"top_logprobs\":[{\"token\":\" upon\",\"logprob\":-0.5},"
        + "{\"token\":\" a\",\"logprob\":-2.0}]}]}}],\"usage\":{\"prompt_tokens\":2,\"completion_tokens\":1}}");
    assertFalse(openai.hasTokenIds());
    assertFalse(openai.hasTopK());
    assertArrayEquals(new float[] {-0.5f}, openai.tokenLogprobs(), "the log-probabilities are kept");
    assertEquals(Completion.Finish.CONTENT_FILTER, openai.finish());
    // Ids of the tokens (choices[0].token_ids) but not of the alternatives: ids kept, no top-k.
    Completion idsOnly = read(chat, "{\"choices\":[{\"message\":{\"content\":\" upon\"},\"token_ids\":[7],"
        + "\"logprobs\":{\"content\":[{\"token\":\" upon\",\"logprob\":-0.5,\"top_logprobs\":[{\"token\":\" upon\","
        + "\"logprob\":-0.5},{\"token\":\" a\",\"logprob\":-2.0}]}]}}]}");
    assertArrayEquals(new int[] {7}, idsOnly.tokens());
    assertTrue(idsOnly.hasTokenIds());
    assertFalse(idsOnly.hasTopK());
    assertEquals(Completion.Finish.STOP, idsOnly.finish(), "no finish_reason and fewer tokens than max_tokens");

    TeacherHttpException few = assertThrows(TeacherHttpException.class, () -> read(chat, "{\"choices\":[{\"message\":"
        + "{\"content\":\"x\"},\"logprobs\":{\"content\":[{\"token\":\"token_id:7\",\"logprob\":-0.5,\"top_logprobs\":"
        + "[{\"token\":\"token_id:7\",\"logprob\":-0.5}]}]}}]}"));
    assertTrue(few.getMessage().contains("teacher.top-k = 2"), few.getMessage());
    assertFalse(few.retryable());
    TeacherHttpException none = assertThrows(TeacherHttpException.class, () -> read(chat,
        "{\"choices\":[{\"message\":{\"content\":\"x\"},\"logprobs\":null}]}"));
    assertTrue(none.getMessage().contains("no logprobs"), none.getMessage());
    TeacherHttpException tools = assertThrows(TeacherHttpException.class, () -> read(chat, "{\"choices\":[{\"message\":"
        + "{\"content\":\"\"},\"finish_reason\":\"tool_calls\",\"logprobs\":{\"content\":[]}}]}"));
    assertTrue(tools.getMessage().contains("tool_calls"), tools.getMessage());
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
