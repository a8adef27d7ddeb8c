package io.distillery.jobs.evaluate;

import static org.apache.spark.sql.functions.col;

import io.distillery.corpus.Split;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.dataset.RunLayout;
import io.distillery.dataset.Stage;
import io.distillery.dataset.StageManifest;
import io.distillery.evaluation.EvaluationResult;
import io.distillery.evaluation.Gate;
import io.distillery.evaluation.Report;
import io.distillery.jobs.Datasets;
import io.distillery.jobs.HadoopFiles;
import io.distillery.jobs.StageJob;
import io.distillery.jobs.StageResult;
import io.distillery.jobs.Stages;
import io.distillery.jobs.task.DistillationTask;
import io.distillery.jobs.task.Tasks;
import io.distillery.settings.Settings;
import io.distillery.teacher.TeacherIdentity;
import io.distillery.util.Hashing;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stage 4, evaluate: scores the trained student against the teacher on the held-out (test) split, measures
 * both models' throughput in the same executor tasks, writes metrics.json and report.html, and applies the
 * promotion gate: a passing student is recorded in {@code ROOT/models/promoted.json}.
 */
public final class EvaluateJob implements StageJob {
  private static final Logger LOG = LoggerFactory.getLogger(EvaluateJob.class);
  public static final String GATE_PASSED = "gate_passed";

  @Override
  public Stage stage() {
    return Stage.EVALUATE;
  }

  @Override
  public StageResult run(Settings settings, SparkSession spark, Map<Stage, StageManifest> upstream) {
    DistillationTask task = Tasks.of(settings);
    RunLayout layout = Stages.layout(settings);
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    byte[] model = HadoopFiles.read(spark, layout.studentModel());
    String sha = Hashing.sha256Hex(model);
    List<DistillationTask.TrainedStudent> students = new ArrayList<>();
    students.add(new DistillationTask.TrainedStudent(DistillationTask.TrainedStudent.MAIN, jsc.broadcast(model), sha));
    for (String ablation : task.ablations(settings).keySet()) {
      byte[] bytes = HadoopFiles.read(spark, layout.ablationModel(ablation));
      students.add(new DistillationTask.TrainedStudent(ablation, jsc.broadcast(bytes), Hashing.sha256Hex(bytes)));
    }
    try {
      Dataset<Row> heldOut = Datasets.read(spark, task.outputDataset(), layout)
          .where(col(Cols.SPLIT).equalTo(Split.TEST.label()));
      EvaluationResult result = task.evaluate(settings, spark, heldOut, students)
          .withMetric("student_model_bytes", model.length);
      Gate gate = Gate.check(task.gate(settings.evaluate().gate()), result);
      TeacherIdentity teacher = upstream.get(Stage.GENERATE).teacher();

      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("run_id", settings.run().id());
      doc.put("task", task.name());
      doc.put("student_model", layout.studentModel());
      doc.put("student_model_sha256", sha);
      doc.put("teacher", teacher);
      doc.put("metrics", result.metrics());
      doc.put("gate", Map.of("passed", gate.passed(), "failures", gate.failures(),
          "settings", settings.evaluate().gate()));
      HadoopFiles.write(spark, layout.metrics(), json(doc));
      HadoopFiles.write(spark, layout.report(), Report.html(settings.run().id(),
          settings.student().kind() + " (width " + settings.student().width() + ", " + model.length + " bytes)",
          teacher.describe(), result, gate).getBytes(StandardCharsets.UTF_8));
      if (gate.passed()) {
        doc.put("promoted_at", Instant.now().toString());
        HadoopFiles.write(spark, layout.root() + "/models/promoted.json", json(doc));
        LOG.info("Gate passed: run '{}' promoted ({})", settings.run().id(), result.metrics());
      } else {
        LOG.warn("Gate failed for run '{}': {}", settings.run().id(), gate.failures());
      }
      Map<String, Object> details = new LinkedHashMap<>(result.metrics());
      details.put(GATE_PASSED, gate.passed());
      details.put("gate_failures", gate.failures());
      details.put("report", layout.report());
      return StageResult.of(Map.of("held_out_rows", (long) result.metric("held_out_rows")), details)
          .withTeacher(teacher);
    } finally {
      students.forEach(st -> st.model().destroy());
    }
  }

  private static byte[] json(Map<String, Object> doc) {
    try {
      return StageManifest.json().writeValueAsBytes(doc);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
