package io.distillery.teacher.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.distillery.TestSettings;
import io.distillery.settings.Settings;
import io.distillery.teacher.OpenNlpLanguageTeacher;
import io.distillery.teacher.http.FaultInjectingProxy.Fault;
import io.distillery.teacher.server.TeacherServer;
import io.distillery.util.JvmShared;
import io.distillery.util.Retry;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The remote-teacher client against serve-teacher (the real language detector over real HTTP on loopback),
 * through a proxy that injects the faults real servers produce.
 */
class HttpTeacherClientTest {
  private static final List<Fault> FAULTS = List.of(Fault.TOO_MANY_REQUESTS, Fault.SERVER_ERROR, Fault.UNAVAILABLE,
      Fault.SLOW, Fault.TRUNCATED, Fault.NOT_JSON, Fault.RESET);
  private static final String[] TEXTS = {
      "La Commission présentera sa proposition au Parlement le mois prochain.",
      "Die Kommission wird ihren Vorschlag im nächsten Monat vorlegen.",
      "The Commission will present its proposal to Parliament next month.",
      "La Comisión presentará su propuesta al Parlamento el próximo mes.",
      "La Commissione presenterà la sua proposta al Parlamento il mese prossimo.",
      "De Commissie zal haar voorstel volgende maand aan het Parlement voorleggen.",
      "A Comissão apresentará a sua proposta ao Parlamento no próximo mês."};

  @AfterEach
  void closeShared() {
    JvmShared.closeAll();
  }

  private static Settings client(String baseUrl, Map<String, String> more) {
    Map<String, String> o = new HashMap<>(Map.of("distillery.serve.port", "0",
        "distillery.teacher.kind", "openai-chat", "distillery.teacher.http.base-url", baseUrl,
        "distillery.teacher.model", "apache-opennlp/langdetect-183",
        "distillery.teacher.http.request-timeout", "1s", "distillery.teacher.http.retry.initial-backoff", "20ms",
        "distillery.teacher.http.retry.max-backoff", "100ms", "distillery.teacher.http.retry.max-attempts", "4"));
    o.putAll(more);
    return TestSettings.langid(o);
  }

  private static Settings server() {
    return TestSettings.langid(Map.of("distillery.serve.port", "0", "distillery.serve.max-concurrent", "8"));
  }

  private static String upstream(TeacherServer s) {
    return "http://127.0.0.1:" + s.address().getPort() + "/v1";
  }

  /** Chat completions and legacy completions: the same faults, the same answers. */
  @ParameterizedTest
  @ValueSource(strings = {"openai-chat", "openai-completions"})
  void everyKindOfFaultIsRetriedAndEachInputIsAnsweredOnceWithTheTeachersDistribution(String kind)
      throws Exception {
    Settings serve = server();
    try (TeacherServer teacher = TeacherServer.start(serve, Optional.empty());
        FaultInjectingProxy proxy = FaultInjectingProxy.start(URI.create(upstream(teacher)),
            (input, attempt) -> attempt == 1 ? FAULTS.get(Math.floorMod(input.hashCode(), FAULTS.size()))
                : Fault.NONE, Duration.ofMillis(1500), 0)) {
      Settings s = client(proxy.baseUrl(), Map.of("distillery.teacher.kind", kind));
      HttpTeacherClient client = HttpTeacherClient.shared(s.teacher(), 1.0, Optional::empty);
      assertTrue(client.endpoint().getPath().endsWith(OpenAiProtocol.path(s.teacher())), client.endpoint() + "");
      List<String> inputs = new ArrayList<>();
      for (int i = 0; i < 42; i++) {
        inputs.add(TEXTS[i % TEXTS.length] + " (" + i + ")");
      }
      List<CompletableFuture<HttpTeacherClient.Response>> answers = new ArrayList<>();
      for (String text : inputs) {
        answers.add(client.ask(OpenAiProtocol.Request.of(text)));
      }
      OpenNlpLanguageTeacher local = OpenNlpLanguageTeacher.shared(serve.teacher());
      for (int i = 0; i < inputs.size(); i++) {
        HttpTeacherClient.Response r = answers.get(i).join();
        assertEquals(2, r.attempts(), inputs.get(i) + ": one planned fault, then the answer");
        var top = OpenAiProtocol.topLabels(r.body(), List.of(), 3);
        float[] expected = local.distribution(inputs.get(i));
        for (int k = 0; k < top.labels().length; k++) {
          assertEquals(expected[local.labels().indexOf(top.labels()[k])], top.probabilities()[k], 1e-5);
        }
        assertEquals(serve.teacher().name(), OpenAiProtocol.served(r.body(), "?").model());
      }
      assertEquals(inputs.size(), proxy.answered().size());
      assertTrue(proxy.answered().values().stream().allMatch(n -> n == 1), "answered once each: " + proxy.answered());
      assertTrue(proxy.attempts().values().stream().allMatch(n -> n == 2), "two requests each: " + proxy.attempts());
    }
  }

  @Test
  void retriesAreBoundedAndOther4xxAreNotRetried() throws Exception {
    try (TeacherServer teacher = TeacherServer.start(server(), Optional.empty());
        FaultInjectingProxy proxy = FaultInjectingProxy.start(URI.create(upstream(teacher)),
            (input, attempt) -> input.startsWith("always") ? Fault.SERVER_ERROR : Fault.BAD_REQUEST,
            Duration.ofMillis(10), 0)) {
      Settings s = client(proxy.baseUrl(), Map.of());
      HttpTeacherClient client = HttpTeacherClient.shared(s.teacher(), 1.0, Optional::empty);
      HttpTeacherClient.Failed always = failure(client.ask(OpenAiProtocol.Request.of("always 500")));
      assertEquals(4, always.attempts());
      assertEquals(500, always.last().status());
      assertEquals("http_500", always.last().errorClass());
      HttpTeacherClient.Failed bad = failure(client.ask(OpenAiProtocol.Request.of("bad")));
      assertEquals(1, bad.attempts());
      assertEquals("http_400", bad.last().errorClass());
      assertTrue(bad.getMessage().contains("This request is not valid."), bad.getMessage());
      assertEquals(Map.of("always 500", 4, "bad", 1), proxy.attempts());
    }
  }

  @Test
  void retryAfterIsHonouredAndTheRequestRateStaysWithinTheLimit() throws Exception {
    try (TeacherServer teacher = TeacherServer.start(server(), Optional.empty());
        FaultInjectingProxy proxy = FaultInjectingProxy.start(URI.create(upstream(teacher)),
            (input, attempt) -> input.equals("throttled") && attempt == 1 ? Fault.TOO_MANY_REQUESTS : Fault.NONE,
            Duration.ofMillis(10), 1)) {
      // 1 s Retry-After, well beyond the 100 ms backoff: the second attempt must wait for it.
      Settings s = client(proxy.baseUrl(), Map.of("distillery.teacher.http.retry.max-backoff", "2s"));
      HttpTeacherClient client = HttpTeacherClient.shared(s.teacher(), 1.0, Optional::empty);
      assertEquals(2, client.ask(OpenAiProtocol.Request.of("throttled")).join().attempts());
      List<Long> t = proxy.arrivals("throttled");
      assertTrue(t.get(1) - t.get(0) >= 950_000_000L, "Retry-After: 1 honoured, waited " + (t.get(1) - t.get(0)));
    }
    JvmShared.closeAll();
    try (TeacherServer teacher = TeacherServer.start(server(), Optional.empty());
        FaultInjectingProxy proxy = FaultInjectingProxy.start(URI.create(upstream(teacher)),
            (input, attempt) -> Fault.NONE, Duration.ofMillis(10), 0)) {
      // 600 requests/min = 10/s with a one-second burst of 10: 40 requests take at least 3 s however many are open.
      Settings s = client(proxy.baseUrl(), Map.of("distillery.teacher.http.requests-per-minute", "600"));
      HttpTeacherClient client = HttpTeacherClient.shared(s.teacher(), 1.0, Optional::empty);
      List<CompletableFuture<HttpTeacherClient.Response>> all = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        all.add(client.ask(OpenAiProtocol.Request.of(TEXTS[i % TEXTS.length] + i)));
      }
      all.forEach(CompletableFuture::join);
      List<Long> arrivals = proxy.arrivals().stream().sorted().toList();
      assertEquals(40, arrivals.size());
      double seconds = (arrivals.get(39) - arrivals.get(0)) / 1e9;
      assertTrue(seconds >= 2.7, "40 requests at 10/s after a burst of 10 took " + seconds + " s");
      // Every window after the burst: at most rate × window + one burst.
      for (int i = 10; i < 40; i++) {
        double window = (arrivals.get(i) - arrivals.get(0)) / 1e9;
        assertTrue(i + 1 <= 10 + 10 * window + 1, "request " + (i + 1) + " arrived " + window + " s in");
      }
    }
  }

  private static HttpTeacherClient.Failed failure(CompletableFuture<?> f) {
    try {
      f.join();
    } catch (CompletionException e) {
      return (HttpTeacherClient.Failed) Retry.unwrap(e);
    }
    throw new AssertionError("expected a failure");
  }
}
