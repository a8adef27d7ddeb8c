package io.distillery.jobs.evaluate;

import io.distillery.jobs.spark.HadoopFiles;
import io.distillery.run.EvaluationRecord;
import io.distillery.run.RunLayout;
import io.distillery.run.Taint;
import io.distillery.util.Hashing;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The promoted student of a run root and the history of promotions: models/promoted.json (the current one, replaced
 * by an atomic rename) and models/promotions.jsonl (every promotion and rollback, oldest first, one evaluation record
 * with its time and reason a line). Whoever promotes appends to the history first, then replaces the current record.
 */
public final class Promotions {
  private static final Logger LOG = LoggerFactory.getLogger(Promotions.class);

  private final SparkSession spark;
  private final RunLayout layout;

  public Promotions(SparkSession spark, RunLayout layout) {
    this.spark = spark;
    this.layout = layout;
  }

  /** The promoted student's record, if a student was ever promoted under this root. */
  public Optional<EvaluationRecord> current() {
    return HadoopFiles.exists(spark, layout.promoted())
        ? Optional.of(EvaluationRecord.fromJson(HadoopFiles.read(spark, layout.promoted()))) : Optional.empty();
  }

  /** Every promotion and rollback, oldest first. */
  public List<EvaluationRecord> history() {
    List<EvaluationRecord> out = new ArrayList<>();
    if (HadoopFiles.exists(spark, layout.promotions())) {
      new String(HadoopFiles.read(spark, layout.promotions()), StandardCharsets.UTF_8).lines()
          .filter(l -> !l.isBlank())
          .forEach(l -> out.add(EvaluationRecord.fromJson(l.getBytes(StandardCharsets.UTF_8))));
    }
    return out;
  }

  /** Promotes the student {@code evaluated} describes, for {@code reason}; returns the promotion record. */
  public EvaluationRecord promote(EvaluationRecord evaluated, String reason) {
    if (evaluated.learntFromPurgedRows()) {
      throw new IllegalArgumentException("The student of run '" + evaluated.runId() + "' is tainted ("
          + evaluated.tainted() + "): it learnt from rows that were purged, so it cannot be promoted. Retrain it "
          + "(`distillery run --run-id " + evaluated.runId() + "`).");
    }
    EvaluationRecord promotion = evaluated.promoted(reason);
    ByteArrayOutputStream lines = new ByteArrayOutputStream();
    if (HadoopFiles.exists(spark, layout.promotions())) {
      lines.writeBytes(HadoopFiles.read(spark, layout.promotions()));
    }
    lines.writeBytes((promotion.toJsonLine() + "\n").getBytes(StandardCharsets.UTF_8));
    HadoopFiles.write(spark, layout.promotions(), lines.toByteArray());
    HadoopFiles.write(spark, layout.promoted(), promotion.toJson());
    LOG.info("Promoted the student of run '{}' ({}): {}", promotion.runId(), promotion.studentModelSha256(), reason);
    return promotion;
  }

  /**
   * Promotes again the student of an earlier run (a rollback), from its evaluation record (reports/RUN/metrics.json):
   * it must have passed its gate and its model must still be there, unchanged.
   */
  public EvaluationRecord promoteRun(String runId, String reason) {
    RunLayout run = layout.forRun(runId);
    if (!HadoopFiles.exists(spark, run.metrics())) {
      throw new IllegalArgumentException("Run '" + runId + "' has no evaluation under " + layout.root() + " ("
          + run.metrics() + "): only an evaluated student can be promoted.");
    }
    EvaluationRecord evaluated = EvaluationRecord.fromJson(HadoopFiles.read(spark, run.metrics()));
    if (!evaluated.gate().passed()) {
      throw new IllegalArgumentException("The student of run '" + runId + "' failed its promotion gate ("
          + evaluated.gate().failures() + "); it cannot be promoted.");
    }
    if (!HadoopFiles.exists(spark, evaluated.studentModel())) {
      throw new IllegalArgumentException("The student model of run '" + runId + "' is gone ("
          + evaluated.studentModel() + "); it cannot be promoted.");
    }
    String sha = Hashing.sha256Hex(HadoopFiles.read(spark, evaluated.studentModel()));
    if (!sha.equals(evaluated.studentModelSha256())) {
      throw new IllegalStateException("The student model of run '" + runId + "' changed since it was evaluated "
          + "(sha256 " + sha + ", evaluated " + evaluated.studentModelSha256() + "); it cannot be promoted.");
    }
    return promote(evaluated, reason);
  }

  /**
   * Records {@code taint} on every promotion of run {@code runId}'s student {@code sha256} in the history and, if it
   * is the promoted one, on the current record (it stays promoted, flagged, until another is); each file is replaced
   * whole. Returns whether the promoted student is the tainted one.
   */
  public boolean taint(String runId, String sha256, Taint taint) {
    if (HadoopFiles.exists(spark, layout.promotions())) {
      StringBuilder lines = new StringBuilder();
      for (EvaluationRecord r : history()) {
        boolean hit = r.runId().equals(runId) && r.studentModelSha256().equals(sha256);
        lines.append((hit ? r.withTaint(taint) : r).toJsonLine()).append('\n');
      }
      HadoopFiles.write(spark, layout.promotions(), lines.toString().getBytes(StandardCharsets.UTF_8));
    }
    Optional<EvaluationRecord> current = current();
    if (current.isPresent() && current.get().runId().equals(runId)
        && current.get().studentModelSha256().equals(sha256)) {
      HadoopFiles.write(spark, layout.promoted(), current.get().withTaint(taint).toJson());
      LOG.warn("The promoted student (run '{}') is tainted: {}", runId, taint);
      return true;
    }
    return false;
  }
}
