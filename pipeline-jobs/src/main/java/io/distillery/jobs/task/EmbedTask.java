package io.distillery.jobs.task;

import static org.apache.spark.ml.functions.array_to_vector;
import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.udf;
import static org.apache.spark.sql.functions.when;

import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.dataset.StageManifest;
import io.distillery.evaluation.Charts;
import io.distillery.evaluation.EvaluationResult;
import io.distillery.evaluation.Figure;
import io.distillery.evaluation.Gate;
import io.distillery.dataset.RunLayout;
import io.distillery.jobs.Datasets;
import io.distillery.jobs.HadoopFiles;
import io.distillery.jobs.SparkSchemas;
import io.distillery.settings.Settings;
import io.distillery.student.StaticEmbeddingStudent;
import io.distillery.student.StudentArtifact;
import io.distillery.student.Vocabulary;
import io.distillery.student.StudentInputs;
import io.distillery.student.StudentModel;
import io.distillery.teacher.EmbeddingTeacher;
import io.distillery.teacher.OnnxEmbeddingTeacher;
import io.distillery.teacher.Tokenizer;
import io.distillery.teacher.TokenContexts;
import io.distillery.corpus.Split;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.linalg.Matrix;
import org.apache.spark.ml.stat.Correlation;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;

/** Sentence-embedding distillation: the teacher's embedding is the target, cosine (and/or MSE) the loss. */
public final class EmbedTask implements DistillationTask {
  static final String DIMENSION = "embedding_dimension";
  static final String STUDENT = "student";
  static final String COSINE = "cosine";
  static final String STATE_SUM = "state_sum";
  private static final String ALONE = "alone";
  private static final String CONTEXT = "context";

  @Override
  public String name() {
    return "embed";
  }

  @Override
  public DatasetKind outputDataset() {
    return DatasetKind.TEACHER_EMBEDDINGS;
  }

  @Override
  public MapPartitionsFunction<Row, Row> teacherFunction(Settings settings) {
    return new EmbedPartition(settings.teacher());
  }

  /**
   * A partition's sums of the teacher's hidden states per token (the by-product of an in-process teacher). The sum
   * travels as little-endian float32 bytes ({@link #packed}): a staging column generate reads back once, where an
   * array of floats cost Parquet's writer a call per value, and a partition has more distinct tokens than rows.
   */
  static final StructType PARTIAL_CONTEXTS = new StructType()
      .add(Cols.TOKEN_ID, DataTypes.LongType, false)
      .add(Cols.OCCURRENCES, DataTypes.LongType, false)
      .add(STATE_SUM, DataTypes.BinaryType, false);

  /**
   * An in-process teacher also sums its hidden states per token over the training split while it answers: the
   * student's start for student.init = teacher-context, at no extra teacher pass. Emitted whatever the init, so
   * that generate does not depend on the student's settings.
   */
  @Override
  public Optional<StructType> byproductSchema(Settings settings) {
    return settings.teacher().remote() ? Optional.empty() : Optional.of(PARTIAL_CONTEXTS);
  }

  @Override
  public Map<String, Long> writeByproduct(Settings settings, SparkSession spark, RunLayout layout,
      Dataset<Row> partials) {
    // Bounded per partition by the vocabulary; summed per token across partitions, never on the driver.
    JavaRDD<Row> totals = partials.javaRDD()
        .mapToPair(r -> new scala.Tuple2<>(r.getLong(0), new ContextSum(r.getLong(1), unpacked(r.getAs(2)))))
        .reduceByKey(ContextSum::plus)
        .map(t -> RowFactory.create(t._1(), t._2().occurrences(), t._2().mean()));
    Dataset<Row> identity = Datasets.read(spark, DatasetKind.TEACHER_EMBEDDINGS, layout)
        .select(Cols.TEACHER_NAME, Cols.TEACHER_VERSION, Cols.TEACHER_ARTIFACT, Cols.TEACHER_SHA256, Cols.TERMS)
        .limit(1);
    StructType schema = SparkSchemas.of(DatasetKind.TEACHER_TOKEN_CONTEXTS);
    StructType payload = new StructType(java.util.stream.Stream.of(Cols.TOKEN_ID, Cols.OCCURRENCES, Cols.EMBEDDING)
        .map(schema::apply).toArray(org.apache.spark.sql.types.StructField[]::new));
    Dataset<Row> contexts = spark.createDataFrame(totals, payload)
        .crossJoin(identity)
        .withColumn(Cols.CREATED_AT, org.apache.spark.sql.functions.current_timestamp());
    Datasets.write(contexts, DatasetKind.TEACHER_TOKEN_CONTEXTS, layout);
    Row n = Datasets.read(spark, DatasetKind.TEACHER_TOKEN_CONTEXTS, layout)
        .agg(count(lit(1)), sum(Cols.OCCURRENCES)).first();
    return Map.of("context_tokens", n.getLong(0), "context_occurrences", n.isNullAt(1) ? 0 : n.getLong(1));
  }

  /** Occurrences of a token and the sum of the teacher's hidden states there. */
  record ContextSum(long occurrences, float[] sum) implements java.io.Serializable {
    ContextSum plus(ContextSum other) {
      float[] total = sum.clone();
      for (int d = 0; d < total.length; d++) {
        total[d] += other.sum[d];
      }
      return new ContextSum(occurrences + other.occurrences, total);
    }

    Float[] mean() {
      Float[] mean = new Float[sum.length];
      for (int d = 0; d < sum.length; d++) {
        mean[d] = (float) (sum[d] / (double) occurrences);
      }
      return mean;
    }
  }

  @Override
  public Map<String, Object> describeOutputs(Settings settings, Dataset<Row> outputs) {
    Row dims = outputs.agg(min(size(col(Cols.EMBEDDING))), max(size(col(Cols.EMBEDDING)))).first();
    if (dims.isNullAt(0)) {
      return Map.of();
    }
    if (dims.getInt(0) != dims.getInt(1)) {
      throw new IllegalStateException("Teacher embeddings have mixed dimensions " + dims.getInt(0) + " to "
          + dims.getInt(1) + "; one run must use one teacher.");
    }
    return Map.of(DIMENSION, dims.getInt(0));
  }

  @Override
  public Map<String, Long> generateAuxiliary(Settings settings, SparkSession spark, RunLayout layout) {
    if (settings.teacher().remote()) {
      return Map.of(); // the student's vocabulary comes from the prompts (plan)
    }
    // Every token of the corpus: for evaluation this equals a student over the teacher's whole vocabulary
    // (a token's vector comes from the teacher's view of the token alone, never from a held-out sentence),
    // without shipping rows no input uses.
    Dataset<Row> tokens = Datasets.read(spark, DatasetKind.PROMPTS, layout)
        .select(Cols.TEXT)
        .flatMap(new TokenIds(settings.teacher()), Encoders.LONG())
        .groupBy(col("value").as(Cols.TOKEN_ID)).count()
        .repartition(settings.spark().partitions());
    Datasets.write(tokens.mapPartitions(new EmbedTokens(settings.teacher()),
        Encoders.row(SparkSchemas.of(DatasetKind.TEACHER_TOKEN_EMBEDDINGS))), DatasetKind.TEACHER_TOKEN_EMBEDDINGS,
        layout);
    return Map.of("vocabulary_tokens", Datasets.read(spark, DatasetKind.TEACHER_TOKEN_EMBEDDINGS, layout).count());
  }

  @Override
  public TrainingPlan plan(Settings settings, SparkSession spark, RunLayout layout, StageManifest generate) {
    Object dim = generate.details().get(DIMENSION);
    if (!(dim instanceof Number n)) {
      throw new IllegalStateException("The generate manifest of run '" + generate.runId() + "' records no "
          + DIMENSION + "; re-run generate.");
    }
    if (settings.student().initFromTeacherContexts()
        && !HadoopFiles.exists(spark, layout.partition(DatasetKind.TEACHER_TOKEN_CONTEXTS))) {
      throw new IllegalStateException("student.init = teacher-context needs the teacher's token contexts, which "
          + "generate writes to " + layout.partition(DatasetKind.TEACHER_TOKEN_CONTEXTS) + " since this version; run '"
          + layout.runId() + "' was generated before. Re-run generate with --force (one more teacher pass), or set "
          + "student.init = teacher-tokens.");
    }
    // Starting from the teacher, the tokens the teacher embedded; else (random init, e.g. a remote teacher) every
    // token of the prompts, counted here.
    Dataset<Row> tokens = settings.student().initFromTeacher()
        ? Datasets.read(spark, DatasetKind.TEACHER_TOKEN_EMBEDDINGS, layout)
        : Datasets.read(spark, DatasetKind.PROMPTS, layout).select(Cols.TEXT)
            .flatMap(new TokenIds(settings.teacher()), Encoders.LONG())
            .groupBy(col("value").as(Cols.TOKEN_ID)).agg(count(lit(1)).as(Cols.OCCURRENCES));
    tokens = tokens.where(col(Cols.OCCURRENCES).geq(settings.student().minTokenCount()));
    // Model metadata, bounded by the tokenizer's vocabulary size (tens of thousands of ids).
    java.util.stream.LongStream ids = tokens.select(Cols.TOKEN_ID).as(Encoders.LONG()).collectAsList().stream()
        .mapToLong(Long::longValue);
    // The special tokens the teacher reads around every text: with rows for them (teacher-context), the student
    // pools them too.
    long[] special = Tokenizer.shared(settings.teacher().tokenizer(), settings.teacher().maxTokens()).specialIds();
    if (settings.student().initFromTeacherContexts()) {
      ids = java.util.stream.LongStream.concat(ids, java.util.Arrays.stream(special));
    }
    Vocabulary vocabulary = Vocabulary.of(ids.toArray());
    MultiLayerNetwork net = new MultiLayerNetwork(StaticEmbeddingStudent.configuration(settings.student(),
        settings.train(), vocabulary.size(), n.intValue()));
    net.init();
    if (settings.student().initFromTeacherTokens()) {
      StaticEmbeddingStudent.initialiseFromTeacherTokens(net, Iterators.map(
          tokens.select(Cols.TOKEN_ID, Cols.EMBEDDING).toLocalIterator(),
          r -> Map.entry(vocabulary.row(r.getLong(0)), floats(r.getList(1)))));
    }
    if (settings.student().initFromTeacherContexts()) {
      Dataset<Row> contexts = Datasets.read(spark, DatasetKind.TEACHER_TOKEN_CONTEXTS, layout);
      // Every vocabulary row with what the teacher has for it: alone (all but the special tokens), in context
      // (tokens of the training split). Held on the driver while the student starts (read once, used twice): one
      // row per vocabulary token, like the embedding table itself.
      Dataset<Row> inContext = contexts.select(col(Cols.TOKEN_ID).as("context_id"), col(Cols.EMBEDDING).as(CONTEXT),
          col(Cols.OCCURRENCES).as("context_occurrences"));
      Dataset<Row> specialInContext = contexts
          .where(col(Cols.TOKEN_ID).isin(java.util.Arrays.stream(special).boxed().toArray()))
          .select(col(Cols.TOKEN_ID), lit(null).cast(DataTypes.createArrayType(DataTypes.FloatType)).as(ALONE),
              col(Cols.EMBEDDING).as(CONTEXT), col(Cols.OCCURRENCES).as("context_occurrences"));
      Dataset<Row> both = tokens.join(inContext, col(Cols.TOKEN_ID).equalTo(col("context_id")), "left_outer")
          .select(col(Cols.TOKEN_ID), col(Cols.EMBEDDING).as(ALONE), col(CONTEXT), col("context_occurrences"))
          .unionByName(specialInContext);
      List<StaticEmbeddingStudent.TokenVectors> vectors = new ArrayList<>();
      both.toLocalIterator().forEachRemaining(r -> vectors.add(new StaticEmbeddingStudent.TokenVectors(
          vocabulary.row(r.getLong(0)),
          r.isNullAt(1) ? Optional.empty() : Optional.of(floats(r.getList(1))),
          r.isNullAt(2) ? Optional.empty()
              : Optional.of(new StaticEmbeddingStudent.Context(floats(r.getList(2)), r.getLong(3))))));
      StaticEmbeddingStudent.initialiseFromTeacherContexts(net, settings.student().contextPrior(), vectors::iterator);
    }
    return new TrainingPlan(net, vocabulary, Map.of("vocabulary_rows", vocabulary.size(),
        "init", settings.student().init()));
  }

  @Override
  public JavaRDD<DataSet> trainingExamples(Settings settings, Dataset<Row> outputs, TrainingPlan plan) {
    return outputs.select(Cols.TEXT, Cols.EMBEDDING).javaRDD()
        .mapPartitions(new ToExamples(settings.teacher(), settings.student(), (Vocabulary) plan.inputs()));
  }

  @Override
  public byte[] artifact(TrainingPlan plan, MultiLayerNetwork trained) {
    return StudentArtifact.of(trained, (Vocabulary) plan.inputs()).toBytes();
  }

  @Override
  public List<Gate.Threshold> gate(Settings.Gate gate) {
    return List.of(new Gate.Threshold(Gate.MEAN_COSINE, gate.minMeanCosine(), "mean cosine to the teacher"),
        new Gate.Threshold(Gate.NEIGHBOUR_RECALL, gate.minNeighbourRecall(), "neighbour agreement"));
  }

  @Override
  public EvaluationResult evaluate(Settings settings, SparkSession spark, Dataset<Row> heldOut,
      List<TrainedStudent> students) {
    Settings.Evaluate spec = settings.evaluate();
    Broadcast<byte[]> studentModel = students.get(0).model();
    StudentModel.Spec student = new StudentModel.Spec(students.get(0).sha256(), settings.teacher().tokenizer(),
        settings.teacher().maxTokens(), settings.student().maxTokens());
    Dataset<Row> scored = heldOut.select(Cols.ROW_ID, Cols.TEXT, Cols.EMBEDDING)
        .repartition(settings.spark().partitions())
        .mapPartitions(new ScoreStudent(student, studentModel, spec.studentBatchSize()), Encoders.row(SCORED))
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
      pairwise(scored, spec, metrics, figures);
      throughput(heldOut, settings, student, studentModel, metrics);
      return new EvaluationResult(metrics, List.of(), figures);
    } finally {
      scored.unpersist();
    }
  }

  static final StructType SCORED = new StructType()
      .add(Cols.ROW_ID, DataTypes.StringType, false)
      .add(Cols.EMBEDDING, DataTypes.createArrayType(DataTypes.FloatType, false), false)
      .add(STUDENT, DataTypes.createArrayType(DataTypes.FloatType, false), false)
      .add(COSINE, DataTypes.DoubleType, false);

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

  /** Dot product of two (unit) vectors: their cosine. */
  private static final UserDefinedFunction DOT = udf(
      (UDF2<Vector, Vector, Double>) (a, b) -> a.dot(b), DataTypes.DoubleType);

  /** Neighbour agreement and Spearman correlation over all pairs of a deterministic held-out sample. */
  private static void pairwise(Dataset<Row> scored, Settings.Evaluate spec, Map<String, Double> metrics,
      List<Figure> figures) {
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

  /** Teacher and student embeddings per second, measured in the same executor tasks on the same texts. */
  private static void throughput(Dataset<Row> heldOut, Settings settings, StudentModel.Spec student,
      Broadcast<byte[]> model, Map<String, Double> metrics) {
    // One task: both models measured one after the other on the same executor, nothing else running there.
    Row t = heldOut.select(Cols.ROW_ID, Cols.TEXT).orderBy(Cols.ROW_ID).limit(settings.evaluate().throughputRows())
        .coalesce(1)
        .mapPartitions(new ThroughputProbe(settings.teacher(), student, model, settings.evaluate().studentBatchSize()),
            Encoders.row(PROBE))
        .agg(sum("rows"), sum("teacher_nanos"), sum("student_nanos")).first();
    double rows = t.getLong(0);
    double teacherPerSecond = settings.teacher().remote() ? Tasks.remoteTeacherPerSecond(heldOut, metrics)
        : rows / (t.getLong(1) / 1e9);
    double studentPerSecond = rows / (t.getLong(2) / 1e9);
    metrics.put("throughput_rows", rows);
    metrics.put("teacher_embeddings_per_second", teacherPerSecond);
    metrics.put("student_embeddings_per_second", studentPerSecond);
    metrics.put("student_speedup", studentPerSecond / teacherPerSecond);
  }

  static final StructType PROBE = new StructType()
      .add("rows", DataTypes.LongType).add("teacher_nanos", DataTypes.LongType).add("student_nanos", DataTypes.LongType);

  /**
   * Executor side: embeds each prompt with the JVM's shared teacher, summing its hidden states per token over the
   * training split's prompts as it goes; after the last prompt, emits those sums as by-product rows.
   */
  record EmbedPartition(Settings.Teacher spec) implements MapPartitionsFunction<Row, Row> {

    @Override
    public Iterator<Row> call(Iterator<Row> prompts) {
      OnnxEmbeddingTeacher teacher = OnnxEmbeddingTeacher.shared(spec);
      TokenContexts contexts = new TokenContexts(teacher.dimension());
      String parameters = "max-tokens=" + spec.maxTokens();
      Iterator<Row> answers = Iterators.map(prompts, p -> TeacherAttempts.withoutByproduct(TeacherAttempts.ask(
          DatasetKind.TEACHER_EMBEDDINGS, p, teacher.identity(), parameters, prompt -> {
            String text = prompt.getAs(Cols.TEXT);
            boolean train = Split.TRAIN.label().equals(prompt.getAs(Cols.SPLIT));
            return Map.of(Cols.EMBEDDING, train ? teacher.embed(text, contexts) : teacher.embed(text));
          })));
      return Iterators.then(answers, () -> Iterators.map(contexts.totals(), t -> TeacherAttempts.byproduct(
          DatasetKind.TEACHER_EMBEDDINGS, RowFactory.create(t.tokenId(), t.occurrences(), packed(t.sum())))));
    }
  }

  /** Executor side: every token id of each text (the teacher's tokenizer, no special tokens). */
  record TokenIds(Settings.Teacher teacher) implements FlatMapFunction<Row, Long> {

    @Override
    public Iterator<Long> call(Row row) {
      long[] ids = Tokenizer.shared(teacher.tokenizer(), teacher.maxTokens()).tokenIds(row.getString(0),
          teacher.maxTokens());
      return java.util.Arrays.stream(ids).boxed().iterator();
    }
  }

  /** Executor side: the teacher's embedding of each (token id, occurrences) alone, with provenance. */
  record EmbedTokens(Settings.Teacher spec) implements MapPartitionsFunction<Row, Row> {

    @Override
    public Iterator<Row> call(Iterator<Row> tokens) {
      OnnxEmbeddingTeacher teacher = OnnxEmbeddingTeacher.shared(spec);
      return Iterators.map(tokens, t -> {
        long id = t.getLong(0);
        long start = System.nanoTime();
        float[] embedding = teacher.embedToken(id);
        return TeacherAttempts.outputRow(DatasetKind.TEACHER_TOKEN_EMBEDDINGS,
            Map.of(Cols.TOKEN_ID, id, Cols.OCCURRENCES, t.getLong(1), Cols.EMBEDDING, embedding),
            TeacherAttempts.Provenance.inProcess(teacher.identity(),
                TeacherAttempts.requestHash(teacher.identity(), "token", Long.toString(id)),
                (System.nanoTime() - start) / 1e6));
      });
    }
  }

  /** Executor side: (text, teacher embedding) rows to one-example DataSets. */
  record ToExamples(Settings.Teacher teacher, Settings.Student student, Vocabulary vocabulary)
      implements FlatMapFunction<Iterator<Row>, DataSet> {

    @Override
    public Iterator<DataSet> call(Iterator<Row> rows) {
      StudentInputs inputs = new StudentInputs(Tokenizer.shared(teacher.tokenizer(), teacher.maxTokens()),
          vocabulary, student.maxTokens());
      return Iterators.map(rows, r -> inputs.example(r.getString(0), floats(r.getList(1))));
    }
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
          float[] t = floats(batch.get(i).getList(2));
          double cos = 0;
          for (int d = 0; d < t.length; d++) {
            cos += t[d] * s[i][d];
          }
          out.add(RowFactory.create(batch.get(i).getString(0), boxed(t), boxed(s[i]), cos));
        }
        return out;
      });
    }
  }

  /**
   * Executor side: times the teacher (one input at a time, as generate runs it) and the student (in batches)
   * on the same texts, in the same task, each after a warm-up.
   */
  record ThroughputProbe(Settings.Teacher teacherSpec, StudentModel.Spec studentSpec, Broadcast<byte[]> model,
      int batchSize) implements MapPartitionsFunction<Row, Row> {
    private static final int WARM_UP = 16;

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
      List<String> texts = new ArrayList<>();
      rows.forEachRemaining(r -> texts.add(r.getString(1)));
      if (texts.isEmpty()) {
        return List.<Row>of().iterator();
      }
      // A remote teacher is not asked again here (it bills per request): its speed comes from generate's latencies.
      EmbeddingTeacher teacher = teacherSpec.remote() ? null : OnnxEmbeddingTeacher.shared(teacherSpec);
      // A fresh student, not the executor's shared one: that one has just scored these very texts, and its
      // tokenizer's word cache would time them warm. Both models warm up on the first texts only, and are
      // timed on the rest, which neither has seen.
      try (StudentModel student = StudentModel.load(model.value(), studentSpec)) {
        int warmUp = Math.min(WARM_UP, texts.size() / 2);
        List<String> warm = texts.subList(0, warmUp);
        List<String> timed = texts.subList(warmUp, texts.size());
        if (teacher != null) {
          warm.forEach(teacher::embed);
        }
        student.embed(warm);
        long t0 = System.nanoTime();
        for (String text : teacher == null ? List.<String>of() : timed) {
          teacher.embed(text);
        }
        long t1 = System.nanoTime();
        for (int i = 0; i < timed.size(); i += batchSize) {
          student.embed(timed.subList(i, Math.min(timed.size(), i + batchSize)));
        }
        long t2 = System.nanoTime();
        return List.of(RowFactory.create((long) timed.size(), t1 - t0, t2 - t1)).iterator();
      }
    }
  }

  static float[] floats(List<Float> list) {
    float[] out = new float[list.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = list.get(i);
    }
    return out;
  }

  /** {@code values} as little-endian float32 bytes. */
  static byte[] packed(float[] values) {
    java.nio.ByteBuffer bytes = java.nio.ByteBuffer.allocate(values.length * Float.BYTES)
        .order(java.nio.ByteOrder.LITTLE_ENDIAN);
    bytes.asFloatBuffer().put(values);
    return bytes.array();
  }

  /** The floats {@link #packed} wrote. */
  static float[] unpacked(byte[] bytes) {
    float[] values = new float[bytes.length / Float.BYTES];
    java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
    return values;
  }

  static Float[] boxed(float[] values) {
    Float[] out = new Float[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = values[i];
    }
    return out;
  }
}
