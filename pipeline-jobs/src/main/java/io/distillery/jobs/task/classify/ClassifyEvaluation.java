package io.distillery.jobs.task.classify;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.evaluation.Charts;
import io.distillery.evaluation.EvaluationResult;
import io.distillery.evaluation.Figure;
import io.distillery.evaluation.Gate;
import io.distillery.evaluation.Table;
import io.distillery.jobs.spark.Iterators;
import io.distillery.jobs.spark.SparkRows;
import io.distillery.jobs.stage.StageContext;
import io.distillery.jobs.task.StudentRecipe;
import io.distillery.jobs.task.TaskEvaluation;
import io.distillery.jobs.task.Throughput;
import io.distillery.jobs.task.TrainedStudent;
import io.distillery.settings.Settings;
import io.distillery.student.ClassifierModel;
import io.distillery.teacher.LabelTeacher;
import io.distillery.teacher.Teachers;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.IntStream;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

/**
 * Evaluate for task classify: top-1 agreement with the teacher (gated), mean KL(teacher ‖ student), expected
 * calibration error, agreement per label, a confusion chart, accuracy against gold labels where there are any, the
 * soft- vs hard-label table, and both models' documents per second and bytes.
 */
final class ClassifyEvaluation implements TaskEvaluation {
  static final String STUDENT = "student";
  static final String TEACHER_LABEL = "teacher_label";
  static final String STUDENT_LABEL = "student_label";
  static final String CONFIDENCE = "confidence";
  static final String AGREE = "agree";
  static final String KL = "kl";
  private static final int WARM_UP = 32;
  private static final int EXAMPLES = 3;

  private static final StructType SCORED = new StructType()
      .add(STUDENT, DataTypes.StringType, false)
      .add(Cols.ROW_ID, DataTypes.StringType, false)
      .add(TEACHER_LABEL, DataTypes.StringType, false)
      .add(Cols.GOLD_LABEL, DataTypes.StringType, false)
      .add(STUDENT_LABEL, DataTypes.StringType, false)
      .add(CONFIDENCE, DataTypes.DoubleType, false)
      .add(AGREE, DataTypes.DoubleType, false)
      .add(KL, DataTypes.DoubleType, false);

  @Override
  public List<Gate.Threshold> gate(Settings.Gate gate) {
    return List.of(Gate.Threshold.atLeast(Gate.TOP1_AGREEMENT, gate.minAgreement(), "top-1 agreement with the teacher"));
  }

  @Override
  public EvaluationResult evaluate(StageContext ctx, Dataset<Row> heldOut, List<TrainedStudent> students) {
    Settings settings = ctx.settings();
    Dataset<Row> scored = heldOut.select(Cols.ROW_ID, Cols.TEXT, Cols.GOLD_LABEL, Cols.TOP_LABELS,
            Cols.TOP_PROBABILITIES)
        .repartition(settings.spark().partitions())
        .mapPartitions(new ScoreClassifiers(students), Encoders.row(SCORED))
        .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      Map<String, Double> metrics = new TreeMap<>();
      List<List<String>> ablationRows = new ArrayList<>();
      List<Figure> figures = new ArrayList<>();
      for (TrainedStudent s : students) {
        String prefix = s.main() ? "" : "ablation." + s.name() + ".";
        Dataset<Row> mine = scored.where(col(STUDENT).equalTo(s.name()));
        Map<String, Double> m = scores(mine, settings.evaluate().calibrationBins(), s.main() ? figures : null);
        m.forEach((k, v) -> metrics.put(prefix + k, v));
        Settings.Loss loss = s.train().loss();
        ablationRows.add(List.of(s.name(), String.format("α = %.2f, T = %.1f", loss.softLabelWeight(),
                loss.temperature()), String.format("%.4f", m.get(Gate.TOP1_AGREEMENT)),
            String.format("%.4f", m.get("mean_kl")), String.format("%.4f", m.get("ece")),
            m.containsKey("gold_accuracy") ? String.format("%.4f", m.get("gold_accuracy")) : "no gold labels"));
      }
      if (students.size() > 1) {
        metrics.put("soft_minus_hard_agreement", metrics.get(Gate.TOP1_AGREEMENT)
            - metrics.get("ablation." + StudentRecipe.HARD_LABELS + "." + Gate.TOP1_AGREEMENT));
      }
      perLabel(scored.where(col(STUDENT).equalTo(TrainedStudent.MAIN)), metrics, figures);
      TaskEvaluation.writeScores(ctx, scored.where(col(STUDENT).equalTo(TrainedStudent.MAIN))
          .select(Cols.ROW_ID, TEACHER_LABEL, Cols.GOLD_LABEL, STUDENT_LABEL, CONFIDENCE, AGREE, KL), heldOut);
      metrics.putAll(Throughput.measure(ctx, heldOut, new Contestants(settings.teacher(), students.get(0)), WARM_UP)
          .metrics("docs"));
      List<Table> tables = List.of(examples(scored.where(col(STUDENT).equalTo(TrainedStudent.MAIN)), heldOut),
          new Table("Soft labels vs hard labels",
          "The same student trained on the same held-in rows with the distillation loss (α > 0: the teacher's "
              + "softened distribution) and with hard labels only (α = 0: the gold label, else the teacher's top "
              + "label), scored on the same held-out rows, as in Hinton et al. 2015. Mean KL is KL(teacher ‖ "
              + "student) at T = 1; ECE is the expected calibration error of the student's top-1 confidence "
              + "against agreement with the teacher.",
          List.of("student", "loss", "top-1 agreement", "mean KL", "ECE", "gold accuracy"), ablationRows,
          Table.Content.SUMMARY));
      return new EvaluationResult(metrics, tables, figures);
    } finally {
      scored.unpersist();
    }
  }

  /**
   * A few held-out inputs with the teacher's distribution beside the student's label: those where the student
   * disagrees most (highest KL), then some where it agrees (a handful of rows reach the driver).
   */
  private static Table examples(Dataset<Row> main, Dataset<Row> heldOut) {
    List<Row> picked = new ArrayList<>(main.where(col(AGREE).equalTo(0.0))
        .orderBy(col(KL).desc(), col(Cols.ROW_ID))
        .limit(EXAMPLES).collectAsList());
    picked.addAll(main.where(col(AGREE).equalTo(1.0)).orderBy(Cols.ROW_ID).limit(EXAMPLES).collectAsList());
    Map<String, Row> inputs = new HashMap<>();
    heldOut.where(col(Cols.ROW_ID).isin(picked.stream().map(r -> r.getAs(Cols.ROW_ID)).toArray()))
        .select(Cols.ROW_ID, Cols.TEXT, Cols.TOP_LABELS, Cols.TOP_PROBABILITIES).collectAsList()
        .forEach(r -> inputs.put(r.getString(0), r));
    List<List<String>> rows = new ArrayList<>();
    for (Row r : picked) {
      Row in = inputs.get(r.<String>getAs(Cols.ROW_ID));
      List<String> labels = in.getList(2);
      List<Number> probabilities = in.getList(3);
      StringBuilder teacher = new StringBuilder();
      for (int i = 0; i < Math.min(3, labels.size()); i++) {
        teacher.append(i > 0 ? ", " : "").append(labels.get(i))
            .append(String.format(" %.2f", probabilities.get(i).doubleValue()));
      }
      String text = in.getString(1);
      rows.add(List.of(text.length() <= 90 ? text : text.substring(0, 87) + "...", r.<String>getAs(Cols.GOLD_LABEL),
          teacher.toString(), r.<String>getAs(STUDENT_LABEL) + String.format(" %.2f", r.<Double>getAs(CONFIDENCE)),
          r.<Double>getAs(AGREE) > 0 ? "agrees" : "disagrees"));
    }
    return new Table("Examples: the teacher's distribution and the student's label",
        "Held-out inputs where the student disagrees with the teacher most (highest KL), then some where it agrees.",
        List.of("held-out input", "gold", "teacher's top labels", "student (confidence)", ""), rows,
        Table.Content.HELD_OUT_ROWS);
  }

  /** Agreement, KL, calibration and gold accuracy of one student's scored rows (aggregated on the executors). */
  private static Map<String, Double> scores(Dataset<Row> mine, int bins, List<Figure> figures) {
    Map<String, Double> m = new TreeMap<>();
    Row agg = mine.agg(count(lit(1)), avg(AGREE), avg(KL),
        sum(when(col(Cols.GOLD_LABEL).notEqual(""), 1).otherwise(0)),
        avg(when(col(Cols.GOLD_LABEL).notEqual(""), col(STUDENT_LABEL).equalTo(col(Cols.GOLD_LABEL)).cast("double"))),
        avg(when(col(Cols.GOLD_LABEL).notEqual(""), col(TEACHER_LABEL).equalTo(col(Cols.GOLD_LABEL)).cast("double"))))
        .first();
    m.put("held_out_rows", (double) agg.getLong(0));
    m.put(Gate.TOP1_AGREEMENT, agg.getDouble(1));
    m.put("mean_kl", agg.getDouble(2));
    long gold = agg.getLong(3);
    m.put("gold_rows", (double) gold);
    if (gold > 0) {
      m.put("gold_accuracy", agg.getDouble(4));
      m.put("teacher_gold_accuracy", agg.getDouble(5));
    }
    // Expected calibration error: per confidence bin, |mean confidence - agreement|, weighted by rows.
    double ece = 0;
    long total = agg.getLong(0);
    List<String> binLabels = new ArrayList<>();
    List<Double> binAgreement = new ArrayList<>();
    for (Row r : mine.groupBy(least(floor(col(CONFIDENCE).multiply(bins)), lit(bins - 1)).as("bin"))
        .agg(count(lit(1)), avg(CONFIDENCE), avg(AGREE)).orderBy("bin").collectAsList()) { // at most `bins` rows
      ece += r.getLong(1) / (double) total * Math.abs(r.getDouble(2) - r.getDouble(3));
      binLabels.add(String.format("%.2f (%d)", r.getLong(0) / (double) bins, r.getLong(1)));
      binAgreement.add(r.getDouble(3));
    }
    m.put("ece", ece);
    if (figures != null) {
      figures.add(new Figure("Calibration",
          "Agreement with the teacher per bin of the student's top-1 confidence (bin start, rows); a calibrated "
              + "student's bars rise with the bin.",
          Charts.bars("Reliability", "student confidence (bin start, rows)", "agreement", binLabels, binAgreement)));
    }
    return m;
  }

  /** Agreement per teacher label and the confusion between the two (at most labels² rows reach the driver). */
  private static void perLabel(Dataset<Row> main, Map<String, Double> metrics, List<Figure> figures) {
    List<String> labels = new ArrayList<>();
    List<Double> agreement = new ArrayList<>();
    for (Row r : main.groupBy(TEACHER_LABEL).agg(count(lit(1)).as("n"), avg(AGREE))
        .orderBy(col("n").desc(), col(TEACHER_LABEL)).collectAsList()) {
      metrics.put("agreement_by_label." + r.getString(0), r.getDouble(2));
      labels.add(r.getString(0) + " (" + r.getLong(1) + ")");
      agreement.add(r.getDouble(2));
    }
    figures.add(new Figure("Agreement per language",
        "Top-1 agreement with the teacher on held-out rows, by the teacher's label (rows).",
        Charts.bars("Agreement by teacher label", "teacher label (rows)", "agreement", labels, agreement)));
    List<Row> cells = main.groupBy(TEACHER_LABEL, STUDENT_LABEL).count().collectAsList();
    TreeSet<String> present = new TreeSet<>();
    cells.forEach(r -> {
      present.add(r.getString(0));
      present.add(r.getString(1));
    });
    List<String> axis = new ArrayList<>(present);
    List<Number[]> heat = new ArrayList<>();
    for (Row r : cells) {
      heat.add(new Number[] {axis.indexOf(r.getString(0)), axis.indexOf(r.getString(1)), Math.log1p(r.getLong(2))});
    }
    figures.add(new Figure("Confusion: teacher vs student",
        "Held-out rows (log scale) by the teacher's top label (x) and the student's (y); off-diagonal cells are "
            + "disagreements.",
        Charts.heatMap("Confusion", "teacher label", "student label", axis, axis, heat)));
  }

  /** Executor side: every student's prediction for each held-out row, beside the teacher's answer. */
  record ScoreClassifiers(List<TrainedStudent> students) implements MapPartitionsFunction<Row, Row> {
    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
      List<ClassifierModel> models = students.stream()
          .map(s -> ClassifierModel.shared(new ClassifierModel.Spec(s.sha256()), s.model()::value)).toList();
      return Iterators.flatMap(rows, r -> {
        String rowId = r.getString(0);
        String text = r.getString(1);
        String gold = r.getString(2);
        List<String> top = r.getList(3);
        List<Float> probabilities = r.getList(4);
        // Every student reads the same labels (the train stage checks their inputs are equal): one teacher
        // distribution per row serves them all.
        float[] teacher = models.get(0).inputs().softTargets(top, probabilities, 1.0);
        return IntStream.range(0, models.size()).mapToObj(i -> {
          ClassifierModel m = models.get(i);
          float[] student = m.probabilities(text);
          int best = 0;
          double kl = 0;
          for (int l = 0; l < student.length; l++) {
            best = student[l] > student[best] ? l : best;
            if (teacher[l] > 0) {
              kl += teacher[l] * Math.log(teacher[l] / Math.max(student[l], 1e-12));
            }
          }
          String label = m.labels().get(best);
          return SparkRows.of(SCORED, Map.of(STUDENT, students.get(i).name(), Cols.ROW_ID, rowId,
              TEACHER_LABEL, top.get(0), Cols.GOLD_LABEL, gold, STUDENT_LABEL, label,
              CONFIDENCE, (double) student[best], AGREE, label.equals(top.get(0)) ? 1.0 : 0.0, KL, kl));
        });
      });
    }
  }

  /** Executor side: the teacher and the student, one document at a time each. */
  record Contestants(Settings.Teacher teacher, TrainedStudent student) implements Throughput.Contestants.Opener {
    @Override
    public Throughput.Contestants open() {
      Optional<LabelTeacher> detector = teacher.remote() ? Optional.empty() : Optional.of(Teachers.labels(teacher));
      ClassifierModel model = ClassifierModel.shared(new ClassifierModel.Spec(student.sha256()),
          student.model()::value);
      // Both are the JVM's shared instances: nothing to close.
      return new Throughput.Contestants(detector.map(t -> texts -> texts.forEach(t::distribution)),
          texts -> texts.forEach(model::probabilities), detector.map(LabelTeacher::modelBytes).orElse(0L), () -> { });
    }
  }
}
