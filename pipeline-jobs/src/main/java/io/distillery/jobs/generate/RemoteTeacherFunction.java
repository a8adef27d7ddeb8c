package io.distillery.jobs.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.distillery.jobs.task.AnswerColumns;
import io.distillery.jobs.task.Prompt;
import io.distillery.jobs.task.RemoteRequests;
import io.distillery.provenance.Provenance;
import io.distillery.provenance.TeacherIdentity;
import io.distillery.settings.Settings;
import io.distillery.teacher.http.HttpTeacherClient;
import io.distillery.teacher.http.OpenAiProtocol;
import io.distillery.teacher.http.TeacherHttpException;
import io.distillery.util.Retry;
import java.io.IOException;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Queue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.DoubleAdder;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.util.TaskCompletionListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Executor side of generate for a remote teacher: keyed prompt rows ({@link GenerateJob#keyed}: the prompt's
 * columns, its request key and the cached response, if any) in, one {@link AttemptRows} row each out.
 * Cached answers are emitted without asking; the others are posted asynchronously through the JVM's
 * {@link HttpTeacherClient}, at most {@code teacher.http.max-in-flight} at once, each answer appended to the
 * response cache as it arrives. When the task's share of the run's budget is spent it stops sending: the rest
 * of its rows fail as {@code budget_exhausted}. Rows come out in the order they are answered.
 */
record RemoteTeacherFunction(Settings.Teacher spec, RemoteRequests requests, ApiKeys apiKey, AttemptRows rows, AnswerColumns columns,
    TeacherIdentity identity, double share, Settings.Budget taskBudget, String cacheDir, String runId)
    implements MapPartitionsFunction<Row, Row> {
  private static final Logger LOG = LoggerFactory.getLogger(RemoteTeacherFunction.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public Iterator<Row> call(Iterator<Row> rows) {
    HttpTeacherClient client = HttpTeacherClient.shared(spec, share, apiKey);
    TaskContext task = TaskContext.get();
    ResponseCache.Segment segment = null;
    Map<String, ResponseCache.Entry> earlier = Map.of();
    if (spec.http().cache()) {
      String prefix = ResponseCache.taskPrefix(runId, appId(), task.stageId(), task.partitionId());
      // A task runs again as a later attempt in its stage (a task failure, a lost executor), or as attempt 0 of a
      // later attempt of its stage if Spark resubmits the stage. The teacher's input is a checkpoint
      // (GenerateJob.checkpointed), so a lost executor should not cause a resubmission; if one happens anyway,
      // what the earlier stage attempt recorded is still not asked again.
      if (task.attemptNumber() > 0 || task.stageAttemptNumber() > 0) {
        earlier = ResponseCache.readEarlierAttempts(cacheDir, prefix);
      }
      segment = new ResponseCache.Segment(cacheDir, prefix + "a" + task.attemptNumber() + "-" + task.taskAttemptId(),
          client.endpoint().toString(), runId);
      ResponseCache.Segment toClose = segment;
      task.addTaskCompletionListener((TaskCompletionListener) ctx -> toClose.close());
    }
    return new Answers(rows, client, segment, earlier);
  }

  private static String appId() {
    SparkEnv env = SparkEnv.get();
    return env == null ? "app" : env.conf().getAppId();
  }

  /**
   * The bounded-in-flight iterator. The consumer's thread (Spark's task thread, the only one that touches the
   * prompt iterator) reads prompts ahead into {@link #ready}; a request is sent whenever a slot is free, by the
   * consumer or by the callback of the request that freed it, so the requests stay open while the consumer is
   * busy writing rows.
   */
  private final class Answers implements Iterator<Row> {
    private final Iterator<Row> prompts;
    private final HttpTeacherClient client;
    private final ResponseCache.Segment segment; // null: cache off
    private final Map<String, ResponseCache.Entry> earlier;
    private final BlockingQueue<Row> done = new LinkedBlockingQueue<>();
    /** Prompts read and not yet sent. */
    private final Queue<Row> ready = new ConcurrentLinkedQueue<>();
    /** Free request slots (max-in-flight in all): taken when a request is sent, given back when it is answered. */
    private final Semaphore slots;
    /**
     * Rows read and not yet handed out, touched by the consumer's thread only: hasNext() must not depend on what
     * callbacks are doing (a callback queues its row before it gives its slot back; counting open requests, the
     * consumer could take the row and then wait for one that never comes).
     */
    private long owed;
    private final AtomicLong spentTokens = new AtomicLong();
    private final DoubleAdder spentCost = new DoubleAdder();
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong budgetStopped = new AtomicLong();

    Answers(Iterator<Row> prompts, HttpTeacherClient client, ResponseCache.Segment segment,
        Map<String, ResponseCache.Entry> earlier) {
      this.prompts = prompts;
      this.client = client;
      this.segment = segment;
      this.earlier = earlier;
      this.slots = new Semaphore(spec.http().maxInFlight());
    }

    @Override
    public boolean hasNext() {
      fill();
      boolean more = owed > 0;
      if (!more && (sent.get() > 0 || budgetStopped.get() > 0)) {
        LOG.info("Remote teacher task done: {} requests answered or failed, {} tokens, cost {}; {} rows not sent "
            + "(budget)", sent.get(), spentTokens.get(), spentCost.sum(), budgetStopped.get());
        sent.set(0);
        budgetStopped.set(0);
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
        while ((row = done.poll(30, TimeUnit.SECONDS)) == null) {
          LOG.info("Waiting for the remote teacher: {} requests open, {} ready to send",
              spec.http().maxInFlight() - slots.availablePermits(), ready.size());
        }
        owed--;
        return row;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for the teacher", e);
      }
    }

    /**
     * Consumer's thread: reads prompts until max-in-flight wait to be sent (a cached answer ends the reading, so
     * cached rows flow out as they are read, not after the whole partition), then sends what slots allow.
     */
    private void fill() {
      int max = spec.http().maxInFlight();
      while (ready.size() < max && prompts.hasNext()) {
        Row prompt = prompts.next();
        owed++;
        Row cached = answeredBefore(prompt);
        if (cached != null) {
          done.add(cached);
          break;
        }
        ready.add(prompt);
      }
      launch();
    }

    /** The row of an answer this prompt already has (response cache, earlier task attempt), else null. */
    private Row answeredBefore(Row prompt) {
      String key = prompt.getAs(ResponseCache.KEY);
      String cached = prompt.getAs(ResponseCache.RESPONSE);
      if (cached != null) {
        return fromCache(Prompt.of(prompt), key, new ResponseCache.Entry(cached,
            orElse(prompt.<Double>getAs(ResponseCache.LATENCY_MS), 0.0),
            orElse(prompt.<Long>getAs(ResponseCache.ATTEMPTS), 0L),
            orElse(prompt.<Long>getAs(ResponseCache.CREATED_AT), 0L)));
      }
      ResponseCache.Entry entry = earlier.get(key);
      return entry == null ? null : fromCache(Prompt.of(prompt), key, entry);
    }

    /** Any thread: sends ready prompts while slots are free. */
    private void launch() {
      while (!ready.isEmpty() && slots.tryAcquire()) {
        Row prompt = ready.poll();
        if (prompt == null) { // another thread took the last one
          slots.release();
          return;
        }
        send(prompt);
      }
    }

    /** Sends one prompt in a slot taken for it; its callback queues the row, gives the slot back and sends on. */
    private void send(Row prompt) {
      Prompt p = Prompt.of(prompt);
      if (budgetSpent()) {
        budgetStopped.incrementAndGet();
        done.add(rows.failed(new TeacherFailure(p.rowId(), p.text(), TeacherFailure.BUDGET_EXHAUSTED,
            "not sent: this task's share of the run's budget (" + taskBudget + ") is spent", 0, null), identity));
        slots.release();
        return;
      }
      String key = prompt.getAs(ResponseCache.KEY);
      sent.incrementAndGet();
      CompletableFuture<HttpTeacherClient.Response> answer;
      try {
        answer = client.ask(requests.of(p));
      } catch (RuntimeException e) { // sending may run on a callback's thread, where a throw would lose the row
        answer = CompletableFuture.failedFuture(e);
      }
      answer.whenComplete((response, error) -> {
        Row out;
        try {
          out = error == null ? answered(p, key, response) : failed(p, Retry.unwrap(error));
        } catch (Throwable t) { // whatever happens, the row comes out: a lost row would leave next() waiting
          LOG.error("Could not record the teacher's answer to row {}", p.rowId(), t);
          out = rows.failed(TeacherFailure.of(p.rowId(), p.text(), t, 1), identity);
        }
        done.add(out);
        slots.release();
        launch();
      });
    }

    private static <T> T orElse(T value, T otherwise) {
      return value != null ? value : otherwise;
    }

    private boolean budgetSpent() {
      return (taskBudget.maxTokens() > 0 && spentTokens.get() >= taskBudget.maxTokens())
          || (taskBudget.maxCost() > 0 && spentCost.sum() >= taskBudget.maxCost());
    }

    private Row answered(Prompt prompt, String key, HttpTeacherClient.Response response) {
      long now = System.currentTimeMillis();
      OpenAiProtocol.Served served = OpenAiProtocol.served(response.body(), spec.model());
      spentTokens.addAndGet(served.totalTokens());
      spentCost.add(spec.http().price().cost(served.promptTokens(), served.completionTokens()));
      if (segment != null) {
        segment.append(key, response.body(), response.latencyMs(), response.attempts(), now); // before parsing: paid for
      }
      return row(prompt, key, response.body(), response.latencyMs(), response.attempts(), false, now);
    }

    private Row fromCache(Prompt prompt, String key, ResponseCache.Entry entry) {
      JsonNode body;
      try {
        body = JSON.readTree(entry.response());
      } catch (IOException e) {
        return failed(prompt, new TeacherHttpException(200, false, null, "unreadable cached response: " + e, e));
      }
      try {
        return row(prompt, key, body, entry.latencyMs(), 0, true, entry.createdAtMillis());
      } catch (RuntimeException e) {
        return failed(prompt, e);
      }
    }

    private Row row(Prompt prompt, String key, JsonNode body, double latencyMs, long attempts, boolean fromCache,
        long createdAt) {
      OpenAiProtocol.RemoteAnswer answer = OpenAiProtocol.read(spec, requests.of(prompt), body);
      OpenAiProtocol.Served served = answer.served();
      return rows.answered(prompt, columns.of(answer.answer()), new Provenance(identity, key, latencyMs,
          served.model(), served.systemFingerprint(), served.promptTokens(), served.completionTokens(), fromCache,
          createdAt), attempts);
    }

    private Row failed(Prompt prompt, Throwable error) {
      if (error instanceof HttpTeacherClient.Failed f) {
        TeacherHttpException t = f.last();
        return rows.failed(new TeacherFailure(prompt.rowId(), prompt.text(), t.errorClass(), f.getMessage(),
            f.attempts(), t.status() >= 400 ? (long) t.status() : null), identity);
      }
      String errorClass = error instanceof TeacherHttpException t ? t.errorClass() : error.getClass().getName();
      return rows.failed(new TeacherFailure(prompt.rowId(), prompt.text(), errorClass,
          String.valueOf(error.getMessage()), 1, null), identity);
    }
  }
}
