package io.distillery.jobs.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.jobs.task.TeacherAttempts;
import io.distillery.jobs.task.TeacherAttempts.Provenance;
import io.distillery.settings.Settings;
import io.distillery.teacher.TeacherIdentity;
import io.distillery.teacher.http.HttpTeacherClient;
import io.distillery.teacher.http.OpenAiProtocol;
import io.distillery.teacher.http.TeacherHttpException;
import io.distillery.util.Retry;
import java.io.IOException;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.DoubleAdder;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Executor side of generate for a remote teacher: keyed prompt rows ({@link GenerateJob#keyed}: the prompt's
 * columns, its request key and the cached response, if any) in, one {@link TeacherAttempts} row each out.
 * Cached answers are emitted without asking; the others are posted asynchronously through the JVM's
 * {@link HttpTeacherClient}, at most {@code teacher.http.max-in-flight} at once, each answer appended to the
 * response cache as it arrives. When the task's share of the run's budget is spent it stops sending: the rest
 * of its rows fail as {@code budget_exhausted}. Rows come out in the order they are answered.
 */
record RemoteTeacherFunction(Settings.Teacher spec, ApiKeys apiKey, DatasetKind output, TeacherIdentity identity, double share,
    Settings.Budget taskBudget, String cacheDir, String runId) implements MapPartitionsFunction<Row, Row> {
  private static final Logger LOG = LoggerFactory.getLogger(RemoteTeacherFunction.class);
  static final String BUDGET_EXHAUSTED = "budget_exhausted";
  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public Iterator<Row> call(Iterator<Row> rows) {
    HttpTeacherClient client = HttpTeacherClient.shared(spec, share, apiKey);
    TaskContext task = TaskContext.get();
    ResponseCache.Segment segment = null;
    Map<String, ResponseCache.Entry> earlier = Map.of();
    if (spec.http().cache()) {
      String prefix = ResponseCache.taskPrefix(runId, appId(), task.stageId(), task.partitionId());
      if (task.attemptNumber() > 0) {
        earlier = ResponseCache.readEarlierAttempts(cacheDir, prefix);
      }
      segment = new ResponseCache.Segment(cacheDir, prefix + "a" + task.attemptNumber() + "-" + task.taskAttemptId(),
          client.endpoint().toString(), runId);
      ResponseCache.Segment toClose = segment;
      task.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) ctx -> toClose.close());
    }
    return new Answers(rows, client, segment, earlier);
  }

  private static String appId() {
    org.apache.spark.SparkEnv env = org.apache.spark.SparkEnv.get();
    return env == null ? "app" : env.conf().getAppId();
  }

  /** The bounded-in-flight iterator: pulls prompts as answers come back. */
  private final class Answers implements Iterator<Row> {
    private final Iterator<Row> prompts;
    private final HttpTeacherClient client;
    private final ResponseCache.Segment segment; // null: cache off
    private final Map<String, ResponseCache.Entry> earlier;
    private final BlockingQueue<Row> done = new LinkedBlockingQueue<>();
    /** Requests open (the callbacks decrement it): bounds how many are started. */
    private final AtomicInteger inFlight = new AtomicInteger();
    /**
     * Rows started and not yet handed out, touched by the consumer's thread only. hasNext() must not use
     * {@link #inFlight}: a callback queues its row before it leaves the in-flight count, so the consumer can take
     * the row while the count still includes it, and would then wait for a row that never comes.
     */
    private long owed;
    private final AtomicLong spentTokens = new AtomicLong();
    private final DoubleAdder spentCost = new DoubleAdder();
    private long sent;
    private long budgetStopped;

    Answers(Iterator<Row> prompts, HttpTeacherClient client, ResponseCache.Segment segment,
        Map<String, ResponseCache.Entry> earlier) {
      this.prompts = prompts;
      this.client = client;
      this.segment = segment;
      this.earlier = earlier;
    }

    @Override
    public boolean hasNext() {
      fill();
      boolean more = owed > 0;
      if (!more && (sent > 0 || budgetStopped > 0)) {
        LOG.info("Remote teacher task done: {} requests answered or failed, {} tokens, cost {}; {} rows not sent "
            + "(budget)", sent, spentTokens.get(), spentCost.sum(), budgetStopped);
        sent = 0;
        budgetStopped = 0;
      }
      return more;
    }

    @Override
    public Row next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      try {
        Row row;
        while ((row = done.poll(30, java.util.concurrent.TimeUnit.SECONDS)) == null) {
          LOG.info("Waiting for the remote teacher: {} requests open", inFlight.get());
        }
        owed--;
        return row;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for the teacher", e);
      }
    }

    /** Starts requests (and emits cached rows) until max-in-flight are open or the prompts run out. */
    private void fill() {
      while (inFlight.get() < spec.http().maxInFlight() && done.isEmpty() && prompts.hasNext()) {
        start(prompts.next());
      }
    }

    private void start(Row prompt) {
      owed++;
      String key = prompt.getAs(ResponseCache.KEY);
      String cached = prompt.getAs(ResponseCache.RESPONSE);
      if (cached != null) {
        done.add(fromCache(prompt, key, new ResponseCache.Entry(cached,
            orElse(prompt.<Double>getAs(ResponseCache.LATENCY_MS), 0.0),
            orElse(prompt.<Long>getAs(ResponseCache.ATTEMPTS), 0L),
            orElse(prompt.<Long>getAs(ResponseCache.CREATED_AT), 0L))));
        return;
      }
      if (earlier.containsKey(key)) {
        done.add(fromCache(prompt, key, earlier.get(key)));
        return;
      }
      if (budgetSpent()) {
        budgetStopped++;
        done.add(TeacherAttempts.failed(output, prompt.getAs(Cols.ROW_ID), prompt.getAs(Cols.TEXT), BUDGET_EXHAUSTED,
            "not sent: this task's share of the run's budget (" + taskBudget + ") is spent", 0, null));
        return;
      }
      String text = prompt.getAs(Cols.TEXT);
      long estimate = HttpTeacherClient.estimateTokens(spec, text);
      inFlight.incrementAndGet();
      sent++;
      client.post(OpenAiProtocol.requestBody(spec, text), estimate).whenComplete((response, error) -> {
        Row out;
        try {
          out = error == null ? answered(prompt, key, response) : failed(prompt, Retry.unwrap(error));
        } catch (Throwable t) { // whatever happens, the row comes out: a lost row would leave next() waiting
          LOG.error("Could not record the teacher's answer to row {}", prompt.<String>getAs(Cols.ROW_ID), t);
          out = TeacherAttempts.failed(output, prompt.getAs(Cols.ROW_ID), prompt.getAs(Cols.TEXT),
              t.getClass().getName(), String.valueOf(t.getMessage()), 1, null);
        }
        done.add(out);
        inFlight.decrementAndGet();
      });
    }

    private static <T> T orElse(T value, T otherwise) {
      return value != null ? value : otherwise;
    }

    private boolean budgetSpent() {
      return (taskBudget.maxTokens() > 0 && spentTokens.get() >= taskBudget.maxTokens())
          || (taskBudget.maxCost() > 0 && spentCost.sum() >= taskBudget.maxCost());
    }

    private Row answered(Row prompt, String key, HttpTeacherClient.Response response) {
      long now = System.currentTimeMillis();
      OpenAiProtocol.Served served = OpenAiProtocol.served(response.body(), spec.model());
      spentTokens.addAndGet(served.totalTokens());
      spentCost.add(spec.http().price().cost(served.promptTokens(), served.completionTokens()));
      if (segment != null) {
        segment.append(key, response.body(), response.latencyMs(), response.attempts(), now); // before parsing: paid for
      }
      return row(prompt, key, response.body(), served, response.latencyMs(), response.attempts(), false, now);
    }

    private Row fromCache(Row prompt, String key, ResponseCache.Entry entry) {
      JsonNode body;
      try {
        body = JSON.readTree(entry.response());
      } catch (IOException e) {
        return failed(prompt, new TeacherHttpException(200, false, null, "unreadable cached response: " + e, e));
      }
      try {
        return row(prompt, key, body, OpenAiProtocol.served(body, spec.model()), entry.latencyMs(), 0, true,
            entry.createdAtMillis());
      } catch (RuntimeException e) {
        return failed(prompt, e);
      }
    }

    private Row row(Row prompt, String key, JsonNode body, OpenAiProtocol.Served served, double latencyMs,
        long attempts, boolean fromCache, long createdAt) {
      Map<String, Object> payload = new HashMap<>(OpenAiProtocol.columns(spec, body));
      for (String name : output.columnNames()) {
        if (!payload.containsKey(name) && prompt.schema().getFieldIndex(name).isDefined()) {
          payload.put(name, prompt.getAs(name)); // row id, text, split, gold label
        }
      }
      return TeacherAttempts.answered(output, payload, new Provenance(identity, key, latencyMs, served.model(),
          served.systemFingerprint(), served.promptTokens(), served.completionTokens(), fromCache, createdAt), attempts);
    }

    private Row failed(Row prompt, Throwable error) {
      if (error instanceof HttpTeacherClient.Failed f) {
        TeacherHttpException t = f.last();
        return TeacherAttempts.failed(output, prompt.getAs(Cols.ROW_ID), prompt.getAs(Cols.TEXT), t.errorClass(),
            f.getMessage(), f.attempts(), t.status() >= 400 ? (long) t.status() : null);
      }
      String errorClass = error instanceof TeacherHttpException t ? t.errorClass() : error.getClass().getName();
      return TeacherAttempts.failed(output, prompt.getAs(Cols.ROW_ID), prompt.getAs(Cols.TEXT), errorClass,
          String.valueOf(error.getMessage()), 1, null);
    }
  }
}
