package io.distillery.jobs.evaluate;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.shiftrightunsigned;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.xxhash64;

import io.distillery.corpus.Split;
import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.evaluation.EvaluationResult;
import io.distillery.evaluation.Gate;
import io.distillery.evaluation.Report;
import io.distillery.jobs.spark.Progress;
import io.distillery.jobs.stage.StageContext;
import io.distillery.jobs.stage.StageJob;
import io.distillery.jobs.stage.StageResult;
import io.distillery.jobs.stage.TermsCheck;
import io.distillery.jobs.task.StudentRecipe;
import io.distillery.jobs.task.TaskEvaluation;
import io.distillery.jobs.task.TrainedStudent;
import io.distillery.provenance.TeacherIdentity;
import io.distillery.run.EvaluateDetails;
import io.distillery.run.EvaluationRecord;
import io.distillery.run.RunLayout;
import io.distillery.run.Stage;
import io.distillery.run.StageManifest;
import io.distillery.settings.Settings;
import io.distillery.settings.SignOff;
import io.distillery.util.Hashing;
import io.distillery.util.Version;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stage 4, evaluate: scores the trained student against the teacher on the held-out (test) split, measures both
 * models' throughput in the same executor tasks, writes metrics.json and report.html, and applies the promotion
 * gate: its task's thresholds and, when a comparable student is promoted, no regression against that student scored
 * on the same rows. A passing student is promoted ({@link Promotions}).
 */
public final class EvaluateJob implements StageJob {
  private static final Logger LOG = LoggerFactory.getLogger(EvaluateJob.class);

  private final DatasetKind outputs;
  private final StudentRecipe<?> recipe;
  private final TaskEvaluation evaluation;

  /**
   * @param outputs the dataset of the teacher's answers, whose held-out split the student is scored on
   * @param recipe the task's student (for the ablations trained beside it)
   * @param evaluation the task's metrics and gate
   */
  public EvaluateJob(DatasetKind outputs, StudentRecipe<?> recipe, TaskEvaluation evaluation) {
    this.outputs = outputs;
    this.recipe = recipe;
    this.evaluation = evaluation;
  }

  /**
   * Whether the promoted student can be held against this run's: another run's, of the same task, taught by the same
   * teacher (else the comparison says nothing and the thresholds alone decide), its model still there.
   */
  private static boolean comparable(StageContext ctx, EvaluationRecord promoted, TeacherIdentity teacher) {
    Settings settings = ctx.settings();
    String why = promoted.runId().equals(settings.run().id()) ? "it is this run's"
        : promoted.task() != settings.task() ? "it is of task " + promoted.task()
        : !promoted.teacher().name().equals(teacher.name())
            || !promoted.teacher().modelSha256().equals(teacher.modelSha256()) ? "it learnt from another teacher ("
                + promoted.teacher().describe() + ")"
        : !ctx.exists(promoted.studentModel()) ? "its model is gone (" + promoted.studentModel() + ")"
        : promoted.learntFromPurgedRows() ? "it is tainted: " + promoted.tainted()
        : null;
    if (why != null) {
      LOG.info("Not comparing with the promoted student of run '{}': {}; the thresholds alone decide",
          promoted.runId(), why);
    }
    return why == null;
  }

  /**
   * The held-out rows' number and an order-free fingerprint of their row ids: the sums of each id's 64-bit hash,
   * in 32-bit halves so that no sum overflows.
   */
  static EvaluationRecord.HeldOut heldOut(Dataset<Row> heldOut) {
    Column hash = xxhash64(col(Cols.ROW_ID));
    Row r = heldOut.agg(count(lit(1)), sum(hash.bitwiseAND(0xFFFFFFFFL)), sum(shiftrightunsigned(hash, 32))).first();
    long rows = r.getLong(0);
    return new EvaluationRecord.HeldOut(rows, rows == 0 ? "" : String.format("%016x%016x", r.getLong(1),
        r.getLong(2)));
  }

  /** The promoted student scored as this run's is, on the same held-out rows. */
  private EvaluationResult scorePromoted(StageContext ctx, Dataset<Row> heldOut, EvaluationRecord promoted,
      EvaluationRecord.HeldOut rows, JavaSparkContext jsc) {
    if (promoted.heldOut() != null && !promoted.heldOut().equals(rows)) {
      LOG.info("The held-out rows changed since run '{}' ({} rows, fingerprint {}; now {}, {}): its student is "
          + "scored on tonight's", promoted.runId(), promoted.heldOut().rows(), promoted.heldOut().rowIdsFingerprint(),
          rows.rows(), rows.rowIdsFingerprint());
    }
    byte[] bytes = ctx.readFile(promoted.studentModel());
    TrainedStudent before = new TrainedStudent(TrainedStudent.MAIN, jsc.broadcast(bytes),
        Hashing.sha256Hex(bytes), ctx.settings().train());
    try {
      LOG.info("Scoring the promoted student of run '{}' on this run's held-out rows", promoted.runId());
      return evaluation.evaluate(ctx, heldOut, List.of(before));
    } finally {
      before.model().destroy();
    }
  }

  @Override
  public Stage stage() {
    return Stage.EVALUATE;
  }

  /** What the report says the student came from: teacher, terms, the datasets at their snapshots, the code. */
  private static Map<String, String> provenance(StageManifest generate, EvaluationRecord.HeldOut heldOut,
      RunLayout layout, String studentSha) {
    TeacherIdentity teacher = generate.teacher();
    Map<String, String> p = new LinkedHashMap<>();
    p.put("Teacher", teacher.name() + " " + teacher.version() + (teacher.modelSha256().isEmpty()
        ? " (remote: " + teacher.artifact() + ")" : " (model sha256 " + teacher.modelSha256() + ")"));
    p.put("Terms", teacher.termsId() + (teacher.termsUrl().isEmpty() ? "" : " (" + teacher.termsUrl() + ")"));
    generate.tables().forEach((name, t) -> p.put("Dataset " + name, t.table() + " at snapshot " + t.snapshotId()
        + " (" + t.rows() + " rows, " + t.files().size() + " files)"));
    p.put("Generate's inputs", "key " + generate.configHash() + ", built from " + generate.codeVersion());
    p.put("Data files", "every data file's sha256, with the terms and sign-offs: " + layout.transparencyPage());
    p.put("Held-out rows", heldOut.rows() + " (row ids fingerprint " + heldOut.rowIdsFingerprint() + ")");
    p.put("Student model", layout.studentModel() + " (sha256 " + studentSha + ")");
    p.put("Code", "Distillery " + Version.current());
    return p;
  }

  /** The promoted students of this run root's task, oldest first: the report's trend. */
  private static List<Report.Night> nights(Promotions promotions, Settings settings) {
    return promotions.history().stream().filter(r -> r.task() == settings.task() && r.promotedAt() != null)
        .map(r -> new Report.Night(r.runId(), r.promotedAt(), r.metrics())).toList();
  }

  @Override
  public StageResult run(StageContext ctx, Map<Stage, StageManifest> upstream) {
    Settings settings = ctx.settings();
    Optional<SignOff> signOff = TermsCheck.ofRows(ctx, outputs, upstream.get(Stage.GENERATE), "evaluate");
    RunLayout layout = ctx.layout();
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(ctx.spark().sparkContext());
    byte[] model = ctx.readFile(layout.studentModel());
    String sha = Hashing.sha256Hex(model);
    List<TrainedStudent> students = new ArrayList<>();
    students.add(new TrainedStudent(TrainedStudent.MAIN, jsc.broadcast(model), sha, settings.train()));
    recipe.ablations(settings).forEach((name, variant) -> {
      byte[] bytes = ctx.readFile(layout.ablationModel(name));
      students.add(new TrainedStudent(name, jsc.broadcast(bytes), Hashing.sha256Hex(bytes), variant.train()));
    });
    try {
      Dataset<Row> heldOut = ctx.read(outputs).where(col(Cols.SPLIT).equalTo(Split.TEST.label()));
      EvaluationRecord.HeldOut heldOutRows = heldOut(heldOut);
      Progress.describe(jsc.sc(), "evaluate: score the student against the teacher on held-out rows");
      EvaluationResult result = evaluation.evaluate(ctx, heldOut, students)
          .withMetric("student_model_bytes", model.length);
      TeacherIdentity teacher = upstream.get(Stage.GENERATE).teacher();
      Settings.Gate gateSettings = settings.evaluate().gate();
      List<Gate.Threshold> thresholds = evaluation.gate(gateSettings);
      Gate gate = Gate.check(thresholds, result);
      Promotions promotions = new Promotions(ctx.spark(), layout);
      Optional<EvaluationRecord> promoted = promotions.current().filter(p -> comparable(ctx, p, teacher));
      Map<String, Double> promotedMetrics = new TreeMap<>();
      if (promoted.isPresent()) {
        EvaluationResult before = scorePromoted(ctx, heldOut, promoted.get(), heldOutRows, jsc);
        gate = gate.and(Gate.againstPromoted(thresholds, result, before, promoted.get().runId(),
            gateSettings.maxRegression()));
        for (Gate.Threshold t : thresholds) {
          result = result.withMetric("promoted." + t.metric(), before.metric(t.metric()));
          promotedMetrics.put(t.metric(), before.metric(t.metric()));
        }
      }
      String comparedWith = promoted.map(EvaluationRecord::runId).orElse(null);
      EvaluationRecord record = new EvaluationRecord(settings.run().id(), settings.task(), layout.studentModel(), sha,
          teacher, heldOutRows, result.metrics(), new EvaluationRecord.GateRecord(gate.passed(), gate.failures(),
              gateSettings, comparedWith), null, null, null);
      ctx.writeFile(layout.metrics(), record.toJson());
      ctx.writeFile(layout.report(), Report.html(new Report.Page(settings.run().id(),
          settings.student().kind() + " (width " + settings.student().width() + ", " + model.length + " bytes)",
          teacher.describe(), provenance(upstream.get(Stage.GENERATE), heldOutRows, layout, sha), result, gate,
          thresholds, promotedMetrics, Optional.ofNullable(comparedWith), nights(promotions, settings)))
          .getBytes(StandardCharsets.UTF_8));
      if (gate.passed()) {
        promotions.promote(record, comparedWith == null ? "gate passed (its thresholds; no promoted student to "
            + "compare with)" : "gate passed, no regression against the student of run '" + comparedWith + "'");
        LOG.info("Gate passed: run '{}' promoted ({})", settings.run().id(), result.metrics());
      } else {
        LOG.warn("Gate failed for run '{}': {}", settings.run().id(), gate.failures());
      }
      return StageResult.of(Map.of("held_out_rows", (long) result.metric("held_out_rows")),
          new EvaluateDetails(gate.passed(), gate.failures(), layout.report(), result.metrics()))
          .withTeacher(teacher).withSignOff(signOff);
    } finally {
      students.forEach(st -> st.model().destroy());
    }
  }
}
