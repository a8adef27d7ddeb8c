package io.distillery.run;

import io.distillery.dataset.DatasetKind;
import io.distillery.settings.Settings;
import java.io.Serializable;

/**
 * Where a run's outputs live under the configured root. Datasets are shared across runs and partitioned by
 * run id; models, reports and stage manifests are per run.
 *
 * <pre>
 * ROOT/tables/NAMESPACE/KIND/data/run_id=RUN/*.parquet, metadata/   the datasets' Iceberg tables (Hadoop catalog)
 * ROOT/datasets/KIND/run_id=RUN/part-*.parquet                      runs made before the datasets were tables
 * ROOT/runs/RUN/STAGE.manifest.json
 * ROOT/models/RUN/student.zip, model-card.json, checkpoints/epoch-N.zip
 * ROOT/models/RUN/ablations/NAME/student.zip, checkpoints/epoch-N.zip   (e.g. the hard-label ablation)
 * ROOT/models/promoted.json                                             the promoted student
 * ROOT/models/promotions.jsonl                                          every promotion and rollback, oldest first
 * ROOT/reports/RUN/metrics.json, report.html, transparency.json, transparency.html
 * ROOT/cache/teacher-responses/                                          remote teachers' answers, all runs
 * ROOT/audit/purges.jsonl                                               every purge: who, when, what, counts
 * </pre>
 * Every path of a run is built here.
 */
public record RunLayout(String root, String runId) implements Serializable {

  public RunLayout {
    root = root.endsWith("/") ? root.substring(0, root.length() - 1) : root;
  }

  /** The layout of the run these settings name. */
  public static RunLayout of(Settings.Run run) {
    return new RunLayout(run.root(), run.id());
  }

  /** The default warehouse of the datasets' tables (tables.warehouse = ""). */
  public String tables() {
    return root + "/tables";
  }

  /**
   * The Parquet directory a dataset had before the datasets were tables (all runs); filter on
   * {@link DatasetKind#RUN_ID} to read one run. Read only to import such runs.
   */
  public String dataset(DatasetKind kind) {
    return root + "/datasets/" + kind.directory();
  }

  /** This run's partition of a dataset's Parquet directory, before the datasets were tables. */
  public String partition(DatasetKind kind) {
    return dataset(kind) + "/" + DatasetKind.RUN_ID + "=" + runId;
  }

  /**
   * The remote teachers' response cache, shared by every run under this root (content-addressed: a later run
   * reuses the answers of an earlier one).
   */
  public String responseCache() {
    return root + "/cache/teacher-responses";
  }

  /** Scratch space of one stage of this run, deleted when the stage is done. */
  public String staging(Stage stage, String name) {
    return root + "/runs/" + runId + "/_staging/" + stage.label() + "-" + name;
  }

  public String manifest(Stage stage) {
    return root + "/runs/" + runId + "/" + stage.label() + ".manifest.json";
  }

  public String modelDir() {
    return root + "/models/" + runId;
  }

  public String studentModel() {
    return modelDir() + "/student.zip";
  }

  /** The model of an ablation trained beside the student (e.g. "hard-labels"). */
  public String ablationModel(String ablation) {
    return ablationDir(ablation) + "/student.zip";
  }

  public String ablationCheckpoint(String ablation, int epoch) {
    return ablationDir(ablation) + "/checkpoints/epoch-" + epoch + ".zip";
  }

  private String ablationDir(String ablation) {
    return modelDir() + "/ablations/" + ablation;
  }

  public String modelCard() {
    return modelDir() + "/model-card.json";
  }

  public String checkpoint(int epoch) {
    return modelDir() + "/checkpoints/epoch-" + epoch + ".zip";
  }

  /** The record of the promoted student (the last that passed the gate, or the one rolled back to), across runs. */
  public String promoted() {
    return root + "/models/promoted.json";
  }

  /** Every promotion and rollback under this root, one evaluation record a line, oldest first. */
  public String promotions() {
    return root + "/models/promotions.jsonl";
  }

  /** The layout of another run under the same root. */
  public RunLayout forRun(String otherRunId) {
    return new RunLayout(root, otherRunId);
  }

  public String reportDir() {
    return root + "/reports/" + runId;
  }

  public String metrics() {
    return reportDir() + "/metrics.json";
  }

  public String report() {
    return reportDir() + "/report.html";
  }

  /**
   * The main student's score on every held-out row beside the teacher's (Parquet; the notebooks read it): embed
   * the cosine, classify both labels, agreement and KL. Rewritten by every evaluate.
   */
  public String heldOutScores() {
    return reportDir() + "/held-out-scores";
  }

  /** What the run learnt from, under which terms, and how it turned out (the transparency report). */
  public String transparency() {
    return reportDir() + "/transparency.json";
  }

  /** The transparency report for people. */
  public String transparencyPage() {
    return reportDir() + "/transparency.html";
  }

  /** The audit log of purges under this root, one JSON object a line (a start and an end per purge). */
  public String purgeAudit() {
    return root + "/audit/purges.jsonl";
  }
}
