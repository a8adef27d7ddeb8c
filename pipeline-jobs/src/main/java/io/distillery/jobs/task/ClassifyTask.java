package io.distillery.jobs.task;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.dataset.RunLayout;
import io.distillery.dataset.StageManifest;
import io.distillery.evaluation.Charts;
import io.distillery.evaluation.EvaluationResult;
import io.distillery.evaluation.Figure;
import io.distillery.evaluation.Gate;
import io.distillery.evaluation.Table;
import io.distillery.settings.Settings;
import io.distillery.student.CharNgramClassifier;
import io.distillery.student.ClassifierInputs;
import io.distillery.student.ClassifierModel;
import io.distillery.student.StudentArtifact;
import io.distillery.teacher.LabelTeacher;
import io.distillery.teacher.OpenNlpLanguageTeacher;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Classification distillation with soft labels (Hinton et al. 2015): the teacher's label distribution (its
 * top-k) is the target, {@code KnowledgeDistillationLoss} the loss, a hashed character n-gram MLP the student.
 * Optionally trains the same student on hard labels only beside it, and reports the two side by side.
 */
public final class ClassifyTask implements DistillationTask {
  private static final Logger LOG = LoggerFactory.getLogger(ClassifyTask.class);
  static final String LABELS = "label_vocabulary";
  public static final String HARD_LABELS = "hard-labels";

  @Override
  public String name() {
    return "classify";
  }

  @Override
  public DatasetKind outputDataset() {
    return DatasetKind.TEACHER_LABELS;
  }

  @Override
  public MapPartitionsFunction<Row, Row> teacherFunction(Settings settings) {
    return new LabelPartition(settings.teacher());
  }

  @Override
  public Map<String, Object> describeOutputs(Settings settings, Dataset<Row> outputs) {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put(LABELS, labels(settings.teacher(), outputs));
    d.put("top_k", settings.teacher().topK());
    Map<String, Long> top = new TreeMap<>();
    // At most one row per label of the vocabulary.
    for (Row r : outputs.groupBy(element_at(col(Cols.TOP_LABELS), 1)).count().collectAsList()) {
      top.put(r.getString(0), r.getLong(1));
    }
    d.put("teacher_top_label_counts", top);
    return d;
  }

  /**
   * The label vocabulary, alphabetical. In-process: the teacher's own (the driver opens the same model file the
   * executors did; the rows' model sha256 is checked against one identity by the generate stage). Remote:
   * teacher.http.labels, else every label the teacher answered with (at most one row per label reaches the
   * driver).
   */
  private static List<String> labels(Settings.Teacher spec, Dataset<Row> outputs) {
    if (!spec.remote()) {
      return OpenNlpLanguageTeacher.shared(spec).labels();
    }
    if (!spec.http().labels().isEmpty()) {
      return spec.http().labels().stream().sorted().distinct().toList();
    }
    return outputs.select(explode(col(Cols.TOP_LABELS))).distinct().as(Encoders.STRING()).collectAsList().stream()
        .sorted().toList();
  }

  @Override
  public TrainingPlan plan(Settings settings, SparkSession spark, RunLayout layout, StageManifest generate) {
    if (!(generate.details().get(LABELS) instanceof List<?> labels) || labels.isEmpty()) {
      throw new IllegalStateException("The generate manifest of run '" + generate.runId() + "' records no "
          + LABELS + "; re-run generate.");
    }
    ClassifierInputs inputs = new ClassifierInputs(settings.student().charNgrams(),
        labels.stream().map(String::valueOf).toList());
    MultiLayerNetwork net = new MultiLayerNetwork(
        CharNgramClassifier.configuration(settings.student(), settings.train(), inputs));
    net.init();
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("labels", inputs.labels().size());
    details.put("input_length", inputs.length());
    details.put("char_ngrams", inputs.ngrams());
    details.put("parameters", net.numParams());
    details.put("loss", settings.train().loss());
    return new TrainingPlan(net, inputs, details);
  }

  @Override
  public JavaRDD<DataSet> trainingExamples(Settings settings, Dataset<Row> outputs, TrainingPlan plan) {
    return outputs.select(Cols.TEXT, Cols.TOP_LABELS, Cols.TOP_PROBABILITIES, Cols.GOLD_LABEL).javaRDD()
        .mapPartitions(new ToExamples((ClassifierInputs) plan.inputs(), settings.train().loss().temperature()));
  }

  @Override
  public byte[] artifact(TrainingPlan plan, MultiLayerNetwork trained) {
    return StudentArtifact.of(trained, (ClassifierInputs) plan.inputs()).toBytes();
  }

  @Override
  public Map<String, Settings> ablations(Settings settings) {
    if (!settings.train().hardLabelAblation()) {
      return Map.of();
    }
    if (settings.train().loss().softLabelWeight() == 0) {
      LOG.info("train.hard-label-ablation: the student itself is trained on hard labels only; no ablation");
      return Map.of();
    }
    return Map.of(HARD_LABELS, settings.withTrain(settings.train().withLoss(
        settings.train().loss().withSoftLabelWeight(0))));
  }

  @Override
  public List<Gate.Threshold> gate(Settings.Gate gate) {
    return List.of(new Gate.Threshold(Gate.TOP1_AGREEMENT, gate.minAgreement(), "top-1 agreement with the teacher"));
  }

  static final String STUDENT = "student";
  static final String TEACHER_LABEL = "teacher_label";
  static final String STUDENT_LABEL = "student_label";
  static final String CONFIDENCE = "confidence";
  static final String AGREE = "agree";
  static final String KL = "kl";

  static final StructType SCORED = new StructType()
      .add(STUDENT, DataTypes.StringType, false)
      .add(Cols.ROW_ID, DataTypes.StringType, false)
      .add(TEACHER_LABEL, DataTypes.StringType, false)
      .add(Cols.GOLD_LABEL, DataTypes.StringType, false)
      .add(STUDENT_LABEL, DataTypes.StringType, false)
      .add(CONFIDENCE, DataTypes.DoubleType, false)
      .add(AGREE, DataTypes.DoubleType, false)
      .add(KL, DataTypes.DoubleType, false);

  @Override
  public EvaluationResult evaluate(Settings settings, SparkSession spark, Dataset<Row> heldOut,
      List<TrainedStudent> students) {
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
        String prefix = s.name().equals(TrainedStudent.MAIN) ? "" : "ablation." + s.name() + ".";
        Dataset<Row> mine = scored.where(col(STUDENT).equalTo(s.name()));
        Map<String, Double> m = scores(mine, settings.evaluate().calibrationBins(),
            s.name().equals(TrainedStudent.MAIN) ? figures : null);
        m.forEach((k, v) -> metrics.put(prefix + k, v));
        Settings.Loss loss = s.name().equals(TrainedStudent.MAIN) ? settings.train().loss()
            : ablations(settings).get(s.name()).train().loss();
        ablationRows.add(List.of(s.name(), String.format("α = %.2f, T = %.1f", loss.softLabelWeight(),
                loss.temperature()), String.format("%.4f", m.get(Gate.TOP1_AGREEMENT)),
            String.format("%.4f", m.get("mean_kl")), String.format("%.4f", m.get("ece")),
            m.containsKey("gold_accuracy") ? String.format("%.4f", m.get("gold_accuracy")) : "no gold labels"));
      }
      if (students.size() > 1) {
        metrics.put("soft_minus_hard_agreement", metrics.get(Gate.TOP1_AGREEMENT)
            - metrics.get("ablation." + HARD_LABELS + "." + Gate.TOP1_AGREEMENT));
      }
      perLabel(scored.where(col(STUDENT).equalTo(TrainedStudent.MAIN)), metrics, figures);
      throughput(heldOut, settings, students.get(0), metrics);
      List<Table> tables = List.of(new Table("Soft labels vs hard labels",
          "The same student trained on the same held-in rows with the distillation loss (α > 0: the teacher's "
              + "softened distribution) and with hard labels only (α = 0: the gold label, else the teacher's top "
              + "label), scored on the same held-out rows, as in Hinton et al. 2015. Mean KL is KL(teacher ‖ "
              + "student) at T = 1; ECE is the expected calibration error of the student's top-1 confidence "
              + "against agreement with the teacher.",
          List.of("student", "loss", "top-1 agreement", "mean KL", "ECE", "gold accuracy"), ablationRows));
      return new EvaluationResult(metrics, tables, figures);
    } finally {
      scored.unpersist();
    }
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

  /** Teacher and student documents per second and model bytes, measured in one task on the same texts. */
  private static void throughput(Dataset<Row> heldOut, Settings settings, TrainedStudent student,
      Map<String, Double> metrics) {
    Row t = heldOut.select(Cols.ROW_ID, Cols.TEXT).orderBy(Cols.ROW_ID).limit(settings.evaluate().throughputRows())
        .coalesce(1)
        .mapPartitions(new ThroughputProbe(settings.teacher(), student), Encoders.row(PROBE))
        .agg(sum("rows"), sum("teacher_nanos"), sum("student_nanos"), sum("teacher_model_bytes")).first();
    double rows = t.getLong(0);
    double studentPerSecond = rows / (t.getLong(2) / 1e9);
    double teacherPerSecond = settings.teacher().remote() ? Tasks.remoteTeacherPerSecond(heldOut, metrics)
        : rows / (t.getLong(1) / 1e9);
    metrics.put("throughput_rows", rows);
    metrics.put("teacher_docs_per_second", teacherPerSecond);
    metrics.put("student_docs_per_second", studentPerSecond);
    metrics.put("student_speedup", studentPerSecond / teacherPerSecond);
    if (!settings.teacher().remote()) {
      metrics.put("teacher_model_bytes", (double) t.getLong(3));
    }
  }

  static final StructType PROBE = new StructType().add("rows", DataTypes.LongType)
      .add("teacher_nanos", DataTypes.LongType).add("student_nanos", DataTypes.LongType)
      .add("teacher_model_bytes", DataTypes.LongType);

  /** Executor side: the teacher's label distribution of each prompt, its top k kept, with provenance. */
  record LabelPartition(Settings.Teacher spec) implements MapPartitionsFunction<Row, Row> {

    @Override
    public Iterator<Row> call(Iterator<Row> prompts) {
      OpenNlpLanguageTeacher teacher = OpenNlpLanguageTeacher.shared(spec);
      String parameters = "top-k=" + spec.topK();
      return Iterators.map(prompts, p -> TeacherAttempts.ask(DatasetKind.TEACHER_LABELS, p, teacher.identity(),
          parameters, prompt -> {
            LabelTeacher.TopK top = LabelTeacher.TopK.of(teacher.distribution(prompt.getAs(Cols.TEXT)),
                teacher.labels(), spec.topK());
            return Map.of(Cols.GOLD_LABEL, prompt.getAs(Cols.GOLD_LABEL), Cols.TOP_LABELS, top.labels(),
                Cols.TOP_PROBABILITIES, top.probabilities());
          }));
    }
  }

  /**
   * Executor side: (text, top labels, top probabilities, gold) rows to one-example DataSets; the hard label is
   * the gold label where the row has one, else the teacher's top label.
   */
  record ToExamples(ClassifierInputs inputs, double temperature) implements FlatMapFunction<Iterator<Row>, DataSet> {

    @Override
    public Iterator<DataSet> call(Iterator<Row> rows) {
      return Iterators.map(rows, r -> {
        List<String> top = r.getList(1);
        String gold = r.getString(3);
        int hard = inputs.labelIndex(gold.isEmpty() ? top.get(0) : gold);
        return inputs.example(r.getString(0), inputs.softTargets(top, r.getList(2), temperature), hard);
      });
    }
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
        return java.util.stream.IntStream.range(0, models.size()).boxed().flatMap(i -> {
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
          return Stream.of(RowFactory.create(students.get(i).name(), rowId, top.get(0), gold, label,
              (double) student[best], label.equals(top.get(0)) ? 1.0 : 0.0, kl));
        });
      });
    }
  }

  /** Executor side: times the teacher and the student, one document at a time each, on the same texts. */
  record ThroughputProbe(Settings.Teacher teacherSpec, TrainedStudent student)
      implements MapPartitionsFunction<Row, Row> {
    private static final int WARM_UP = 32;

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
      List<String> texts = new ArrayList<>();
      rows.forEachRemaining(r -> texts.add(r.getString(1)));
      if (texts.isEmpty()) {
        return List.<Row>of().iterator();
      }
      // A remote teacher is not asked again here (it bills per request): its speed comes from generate's latencies.
      OpenNlpLanguageTeacher teacher = teacherSpec.remote() ? null : OpenNlpLanguageTeacher.shared(teacherSpec);
      ClassifierModel model = ClassifierModel.shared(new ClassifierModel.Spec(student.sha256()),
          student.model()::value);
      int warmUp = Math.min(WARM_UP, texts.size() / 2);
      List<String> timed = texts.subList(warmUp, texts.size());
      texts.subList(0, warmUp).forEach(t -> {
        if (teacher != null) {
          teacher.distribution(t);
        }
        model.probabilities(t);
      });
      long t0 = System.nanoTime();
      for (String text : teacher == null ? List.<String>of() : timed) {
        teacher.distribution(text);
      }
      long t1 = System.nanoTime();
      for (String text : timed) {
        model.probabilities(text);
      }
      long t2 = System.nanoTime();
      return List.of(RowFactory.create((long) timed.size(), t1 - t0, t2 - t1,
          teacher == null ? 0L : teacher.modelBytes())).iterator();
    }
  }
}
