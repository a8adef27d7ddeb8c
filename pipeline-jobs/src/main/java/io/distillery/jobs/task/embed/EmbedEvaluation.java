package io.distillery.jobs.task.embed;

import static org.apache.spark.ml.functions.array_to_vector;
import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.udf;
import static org.apache.spark.sql.functions.when;

import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.evaluation.Charts;
import io.distillery.evaluation.EvaluationResult;
import io.distillery.evaluation.Figure;
import io.distillery.evaluation.Gate;
import io.distillery.evaluation.Table;
import io.distillery.jobs.spark.BatchingIterator;
import io.distillery.jobs.spark.SparkRows;
import io.distillery.jobs.stage.StageContext;
import io.distillery.jobs.task.TaskEvaluation;
import io.distillery.jobs.task.Throughput;
import io.distillery.jobs.task.TrainedStudent;
import io.distillery.settings.Settings;
import io.distillery.student.StudentModel;
import io.distillery.teacher.EmbeddingTeacher;
import io.distillery.teacher.Teachers;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.linalg.Matrix;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.stat.Correlation;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

/**
 * Evaluate for task embed, on the held-out split: mean, median and 5th-percentile cosine to the teacher; neighbour
 * agreement (recall@k of the teacher's k nearest neighbours) and Spearman correlation of pairwise similarities; both
 * models' embeddings per second, side by side.
 */
final class EmbedEvaluation implements TaskEvaluation {
  static final String STUDENT = "student";
  static final String COSINE = "cosine";
  private static final int WARM_UP = 16;
  private static final int EXAMPLES = 3;

  private static final StructType SCORED = new StructType()
      .add(Cols.ROW_ID, DataTypes.StringType, false)
      .add(Cols.EMBEDDING, DataTypes.createArrayType(DataTypes.FloatType, false), false)
      .add(STUDENT, DataTypes.createArrayType(DataTypes.FloatType, false), false)
      .add(COSINE, DataTypes.DoubleType, false);

  /** Dot product of two (unit) vectors: their cosine. */
  private static final UserDefinedFunction DOT = udf(
      (UDF2<Vector, Vector, Double>) (a, b) -> a.dot(b), DataTypes.DoubleType);

  @Override
  public List<Gate.Threshold> gate(Settings.Gate gate) {
    return List.of(Gate.Threshold.atLeast(Gate.MEAN_COSINE, gate.minMeanCosine(), "mean cosine to the teacher"),
        Gate.Threshold.atLeast(Gate.NEIGHBOUR_RECALL, gate.minNeighbourRecall(), "neighbour agreement"));
  }

  @Override
  public EvaluationResult evaluate(StageContext ctx, Dataset<Row> heldOut, List<TrainedStudent> students) {
    Settings settings = ctx.settings();
    TrainedStudent main = students.get(0);
    StudentModel.Spec student = new StudentModel.Spec(main.sha256(), settings.teacher().tokenizer(),
        settings.teacher().maxTokens(), settings.student().maxTokens());
    Dataset<Row> scored = heldOut.select(Cols.ROW_ID, Cols.TEXT, Cols.EMBEDDING)
        .repartition(settings.spark().partitions())
        .mapPartitions(new ScoreStudent(student, main.model(), settings.evaluate().studentBatchSize()),
            Encoders.row(SCORED))
        .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      Map<String, Double> metrics = new TreeMap<>();
      List<Figure> figures = new ArrayList<>();
      Row agg = scored.agg(count(lit(1)), avg(COSINE), expr("percentile_approx(cosine, array(0.05, 0.5), 10000)"))
          .first();
      metrics.put("held_out_rows", (double) agg.getLong(0));
      metrics.put(Gate.MEAN_COSINE, agg.getDouble(1));
      List<Double> q = agg.getList(2);
      metrics.put("p05_cosine", q.get(0));
      metrics.put("median_cosine", q.get(1));
      figures.add(cosineHistogram(scored));
      TaskEvaluation.writeScores(ctx, scored.select(Cols.ROW_ID, COSINE), heldOut);
      List<Table> tables = new ArrayList<>();
      pairwise(scored, heldOut, settings.evaluate(), metrics, figures, tables);
      metrics.putAll(Throughput.measure(ctx, heldOut,
          new Contestants(settings.teacher(), student, main.model(), settings.evaluate().studentBatchSize()),
          WARM_UP).metrics("embeddings"));
      return new EvaluationResult(metrics, tables, figures);
    } finally {
      scored.unpersist();
    }
  }

  private static Figure cosineHistogram(Dataset<Row> scored) {
    int bins = 40;
    List<String> labels = new ArrayList<>();
    List<Long> counts = new ArrayList<>();
    long[] byBin = new long[bins];
    // Aggregated on the executors: at most `bins` rows reach the driver.
    for (Row r : scored.groupBy(least(floor(col(COSINE).plus(1).multiply(bins / 2.0)), lit(bins - 1)).as("bin"))
        .count().collectAsList()) {
      byBin[(int) Math.max(0, r.getLong(0))] += r.getLong(1);
    }
    int first = 0;
    while (first < bins - 1 && byBin[first] == 0) {
      first++;
    }
    for (int b = first; b < bins; b++) {
      labels.add(String.format("%.2f", -1 + 2.0 * b / bins));
      counts.add(byBin[b]);
    }
    return new Figure("Cosine to the teacher, held-out rows",
        "Each bar counts held-out sentences whose student embedding has that cosine to the teacher's (1 = identical).",
        Charts.histogram("Student vs teacher cosine", "cosine (bin start)", labels, counts));
  }

  /** Neighbour agreement and Spearman correlation over all pairs of a deterministic held-out sample. */
  private static void pairwise(Dataset<Row> scored, Dataset<Row> heldOut, Settings.Evaluate spec,
      Map<String, Double> metrics, List<Figure> figures, List<Table> tables) {
    Dataset<Row> sample = scored.orderBy(Cols.ROW_ID).limit(spec.pairwiseRows())
        .select(col(Cols.ROW_ID), array_to_vector(col(Cols.EMBEDDING)).as("tv"),
            array_to_vector(col(STUDENT)).as("sv"))
        .persist(StorageLevel.MEMORY_AND_DISK());
    Dataset<Row> pairs = sample.as("a").crossJoin(sample.as("b"))
        .where(col("a." + Cols.ROW_ID).notEqual(col("b." + Cols.ROW_ID)))
        .select(col("a." + Cols.ROW_ID).as("q"), col("b." + Cols.ROW_ID).as("n"),
            DOT.apply(col("a.tv"), col("b.tv")).as("t"), DOT.apply(col("a.sv"), col("b.sv")).as("s"))
        .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      int k = spec.neighbours();
      Dataset<Row> ranked = pairs
          .withColumn("rt", row_number().over(Window.partitionBy("q").orderBy(col("t").desc(), col("n"))))
          .withColumn("rs", row_number().over(Window.partitionBy("q").orderBy(col("s").desc(), col("n"))));
      Row recall = ranked.where(col("rt").leq(k))
          .groupBy("q").agg(sum(when(col("rs").leq(k), 1).otherwise(0)).as("hits"))
          .agg(avg(col("hits").divide(k)), count(lit(1))).first();
      metrics.put(Gate.NEIGHBOUR_RECALL, recall.getDouble(0));
      metrics.put("pairwise_rows", (double) recall.getLong(1));
      tables.add(neighbourExamples(ranked, heldOut));

      Dataset<Row> unique = pairs.where(col("q").lt(col("n")));
      Dataset<Row> vectors = new VectorAssembler().setInputCols(new String[] {"t", "s"}).setOutputCol("v")
          .transform(unique);
      Matrix rho = Correlation.corr(vectors, "v", "spearman").head().getAs(0);
      metrics.put("spearman_pairwise", rho.apply(0, 1));

      int bins = 20;
      List<Number[]> cells = new ArrayList<>();
      for (Row r : unique.groupBy(
              least(floor(col("t").plus(1).multiply(bins / 2.0)), lit(bins - 1)).as("x"),
              least(floor(col("s").plus(1).multiply(bins / 2.0)), lit(bins - 1)).as("y"))
          .count().collectAsList()) { // at most bins^2 rows
        cells.add(new Number[] {r.getLong(0), r.getLong(1), Math.log1p(r.getLong(2))});
      }
      List<String> labels = new ArrayList<>();
      for (int b = 0; b < bins; b++) {
        labels.add(String.format("%.1f", -1 + 2.0 * b / bins));
      }
      figures.add(new Figure("Pairwise similarity: teacher vs student",
          "Each cell counts sentence pairs (log scale) by their similarity under the teacher (x) and the student (y);"
              + " a perfect student puts every pair on the diagonal.",
          Charts.heatMap("Pair similarity", "teacher cosine", "student cosine", labels, labels, cells)));
    } finally {
      pairs.unpersist();
      sample.unpersist();
    }
  }

  /**
   * The first {@value #EXAMPLES} sampled sentences with their nearest held-out neighbours under the teacher and
   * under the student, side by side (a few dozen rows reach the driver).
   */
  private static Table neighbourExamples(Dataset<Row> ranked, Dataset<Row> heldOut) {
    int shown = 3;
    List<String> queries = ranked.select("q").distinct().orderBy("q").limit(EXAMPLES).as(Encoders.STRING())
        .collectAsList();
    List<Row> near = ranked.where(col("q").isin(queries.toArray())
        .and(col("rt").leq(shown).or(col("rs").leq(shown)))).select("q", "n", "rt", "rs").collectAsList();
    Set<String> ids = new HashSet<>(queries);
    near.forEach(r -> ids.add(r.getString(1)));
    Map<String, String> text = new HashMap<>();
    heldOut.where(col(Cols.ROW_ID).isin(ids.toArray())).select(Cols.ROW_ID, Cols.TEXT).collectAsList()
        .forEach(r -> text.put(r.getString(0), shortened(r.getString(1))));
    List<List<String>> rows = new ArrayList<>();
    for (String q : queries) {
      for (int rank = 1; rank <= shown; rank++) {
        int at = rank;
        String teacher = near.stream().filter(r -> r.getString(0).equals(q) && r.getInt(2) == at)
            .map(r -> text.get(r.getString(1))).findFirst().orElse("");
        String student = near.stream().filter(r -> r.getString(0).equals(q) && r.getInt(3) == at)
            .map(r -> text.get(r.getString(1))).findFirst().orElse("");
        rows.add(List.of(rank == 1 ? text.get(q) : "", Integer.toString(rank), teacher, student));
      }
    }
    return new Table("Examples: nearest neighbours", "A few held-out sentences with their nearest held-out "
        + "neighbours under the teacher and under the student: a good student finds the same ones.",
        List.of("held-out sentence", "rank", "teacher's neighbour", "student's neighbour"), rows,
        Table.Content.HELD_OUT_ROWS);
  }

  private static String shortened(String s) {
    return s.length() <= 110 ? s : s.substring(0, 107) + "...";
  }

  /** Executor side: student embeddings of held-out rows, in batches, with their cosine to the teacher. */
  record ScoreStudent(StudentModel.Spec spec, Broadcast<byte[]> model, int batchSize)
      implements MapPartitionsFunction<Row, Row> {
    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
      StudentModel student = StudentModel.shared(spec, model::value);
      return new BatchingIterator<>(rows, batchSize, batch -> {
        float[][] s = student.embed(batch.stream().map(r -> r.getString(1)).toList());
        List<Row> out = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
          float[] t = Vectors.floats(batch.get(i).getList(2));
          double cos = 0;
          for (int d = 0; d < t.length; d++) {
            cos += t[d] * s[i][d];
          }
          out.add(SparkRows.of(SCORED, Map.of(Cols.ROW_ID, batch.get(i).getString(0),
              Cols.EMBEDDING, Vectors.boxed(t), STUDENT, Vectors.boxed(s[i]), COSINE, cos)));
        }
        return out;
      });
    }
  }

  /**
   * Executor side: the teacher one input at a time, as generate runs it, and the student in batches. A fresh student,
   * not the executor's shared one: that one has just scored these very texts, and its tokenizer's word cache would
   * time them warm.
   */
  record Contestants(Settings.Teacher teacher, StudentModel.Spec student, Broadcast<byte[]> model, int batchSize)
      implements Throughput.Contestants.Opener {
    @Override
    public Throughput.Contestants open() {
      Optional<EmbeddingTeacher> embedder = teacher.remote() ? Optional.empty()
          : Optional.of(Teachers.embedding(teacher));
      StudentModel fresh = StudentModel.load(model.value(), student);
      Consumer<List<String>> inBatches = texts -> {
        for (int i = 0; i < texts.size(); i += batchSize) {
          fresh.embed(texts.subList(i, Math.min(texts.size(), i + batchSize)));
        }
      };
      return new Throughput.Contestants(embedder.map(t -> texts -> texts.forEach(t::embed)), inBatches,
          embedder.map(EmbeddingTeacher::modelBytes).orElse(0L), fresh);
    }
  }
}
