package io.distillery.jobs.evaluate;

import static org.apache.spark.sql.functions.col;

import io.distillery.corpus.Split;
import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.evaluation.EvaluationResult;
import io.distillery.evaluation.Gate;
import io.distillery.evaluation.Report;
import io.distillery.jobs.stage.StageContext;
import io.distillery.jobs.stage.StageJob;
import io.distillery.jobs.stage.StageResult;
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
import io.distillery.util.Hashing;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stage 4, evaluate: scores the trained student against the teacher on the held-out (test) split, measures both
 * models' throughput in the same executor tasks, writes metrics.json and report.html, and applies the promotion
 * gate: a passing student is recorded in {@link RunLayout#promoted()}.
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

  @Override
  public Stage stage() {
    return Stage.EVALUATE;
  }

  @Override
  public StageResult run(StageContext ctx, Map<Stage, StageManifest> upstream) {
    Settings settings = ctx.settings();
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
      EvaluationResult result = evaluation.evaluate(ctx, heldOut, students)
          .withMetric("student_model_bytes", model.length);
      Gate gate = Gate.check(evaluation.gate(settings.evaluate().gate()), result);
      TeacherIdentity teacher = upstream.get(Stage.GENERATE).teacher();
      EvaluationRecord record = new EvaluationRecord(settings.run().id(), settings.task(), layout.studentModel(), sha,
          teacher, result.metrics(), new EvaluationRecord.GateRecord(gate.passed(), gate.failures(),
              settings.evaluate().gate()), null);
      ctx.writeFile(layout.metrics(), record.toJson());
      ctx.writeFile(layout.report(), Report.html(settings.run().id(),
          settings.student().kind() + " (width " + settings.student().width() + ", " + model.length + " bytes)",
          teacher.describe(), result, gate).getBytes(StandardCharsets.UTF_8));
      if (gate.passed()) {
        ctx.writeFile(layout.promoted(), record.promoted().toJson());
        LOG.info("Gate passed: run '{}' promoted ({})", settings.run().id(), result.metrics());
      } else {
        LOG.warn("Gate failed for run '{}': {}", settings.run().id(), gate.failures());
      }
      return StageResult.of(Map.of("held_out_rows", (long) result.metric("held_out_rows")),
          new EvaluateDetails(gate.passed(), gate.failures(), layout.report(), result.metrics()))
          .withTeacher(teacher);
    } finally {
      students.forEach(st -> st.model().destroy());
    }
  }
}
