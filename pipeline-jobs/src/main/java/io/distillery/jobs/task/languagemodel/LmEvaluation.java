package io.distillery.jobs.task.languagemodel;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;

import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.dataset.PackedTokens;
import io.distillery.dataset.PackedTopK;
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
import io.distillery.student.LmStudentModel;
import io.distillery.student.SoftTargets;
import io.distillery.teacher.Completion;
import io.distillery.teacher.Decoding;
import io.distillery.teacher.Llama2Teacher;
import io.distillery.teacher.lm.Llama2Model;
import io.distillery.teacher.lm.Llama2Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.IntStream;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

/**
 * Evaluate for task language-model, on the teacher's held-out completions read token by token (teacher forcing):
 * the student's perplexity on them against the teacher's own (their ratio is gated), top-1 agreement with the
 * teacher's most probable next token, mean KL(teacher ‖ student) from the teacher's top k, the soft- vs hard-label
 * students side by side, both models' speed reading the same sequences, and held-out prompts completed by each with
 * the same sampling and seed.
 */
final class LmEvaluation implements TaskEvaluation {
  static final String STUDENT = "student";
  static final String POSITIONS = "positions";
  static final String STUDENT_LOGPROB = "student_logprob";
  static final String TEACHER_LOGPROB = "teacher_logprob";
  static final String AGREE = "agree";
  static final String KL = "kl";
  static final String STUDENT_COMPLETION = "student_completion";
  static final String DISAGREEMENTS = "disagreements";
  private static final int WARM_UP = 8;
  /** Tokens of the teacher's completion shown before a position the student disagrees on. */
  private static final int CONTEXT_TOKENS = 8;

  /**
   * One held-out position where the student's most probable next token is not the teacher's: the completion so far
   * (its last tokens), both tokens, and each model's probability of the teacher's.
   */
  private static final StructType DISAGREEMENT = new StructType()
      .add("position", DataTypes.IntegerType, false)
      .add("context", DataTypes.StringType, false)
      .add("teacher_token", DataTypes.StringType, false)
      .add("student_token", DataTypes.StringType, false)
      .add("teacher_probability", DataTypes.DoubleType, false)
      .add("student_probability", DataTypes.DoubleType, false);

  /** Sums over one completion's scored positions, per student. */
  private static final StructType SCORED = new StructType()
      .add(STUDENT, DataTypes.StringType, false)
      .add(Cols.ROW_ID, DataTypes.StringType, false)
      .add(POSITIONS, DataTypes.LongType, false)
      .add(STUDENT_LOGPROB, DataTypes.DoubleType, false)
      .add(TEACHER_LOGPROB, DataTypes.DoubleType, false)
      .add(AGREE, DataTypes.LongType, false)
      .add(KL, DataTypes.DoubleType, false)
      // the main student's only (the held-out scores' per-token view); empty for the others
      .add(DISAGREEMENTS, DataTypes.createArrayType(DISAGREEMENT, false), false);

  private static final StructType SAMPLED = new StructType()
      .add(Cols.ROW_ID, DataTypes.StringType, false)
      .add(Cols.TEXT, DataTypes.StringType, false)
      .add(Cols.COMPLETION, DataTypes.StringType, false)
      .add(STUDENT_COMPLETION, DataTypes.StringType, false);

  @Override
  public List<Gate.Threshold> gate(Settings.Gate gate) {
    return List.of(Gate.Threshold.atMost(Gate.PERPLEXITY_RATIO, gate.maxPerplexityRatio(),
            "the student's perplexity on the teacher's completions over the teacher's"),
        Gate.Threshold.atLeast(Gate.TOP1_AGREEMENT, gate.minTokenAgreement(),
            "next-token agreement with the teacher"));
  }

  @Override
  public EvaluationResult evaluate(StageContext ctx, Dataset<Row> heldOut, List<TrainedStudent> students) {
    Settings settings = ctx.settings();
    Dataset<Row> scored = heldOut.select(Cols.ROW_ID, Cols.TEXT, Cols.TOKEN_IDS, Cols.TOKEN_LOGPROBS, Cols.TOP_K,
            Cols.TOP_K_SIZE)
        .repartition(settings.spark().partitions())
        .mapPartitions(new ScoreLanguageModels(students), Encoders.row(SCORED))
        .persist(StorageLevel.MEMORY_AND_DISK()); // aggregated, then written per completion
    try {
      return evaluate(ctx, heldOut, students, scored);
    } finally {
      scored.unpersist();
    }
  }

  private EvaluationResult evaluate(StageContext ctx, Dataset<Row> heldOut, List<TrainedStudent> students,
      Dataset<Row> scored) {
    Settings settings = ctx.settings();
    Map<String, Double> metrics = new TreeMap<>();
    List<List<String>> comparison = new ArrayList<>();
    List<String> models = new ArrayList<>();
    List<Double> perplexities = new ArrayList<>();
    // One row per student reaches the driver.
    Map<String, Row> byStudent = new TreeMap<>();
    scored.groupBy(STUDENT).agg(count(lit(1)), sum(POSITIONS), sum(STUDENT_LOGPROB), sum(TEACHER_LOGPROB),
        sum(AGREE), sum(KL)).collectAsList().forEach(r -> byStudent.put(r.getString(0), r));
    for (TrainedStudent s : students) {
      Row r = byStudent.get(s.name());
      if (r == null || r.getLong(2) == 0) {
        throw new IllegalStateException("No held-out completion token to score " + s.name() + " on: the test split "
            + "of " + ctx.describe(DatasetKind.TEACHER_COMPLETIONS) + " is empty, or every completion in it is");
      }
      String prefix = s.main() ? "" : "ablation." + s.name() + ".";
      double positions = r.getLong(2);
      double studentPerplexity = Math.exp(-r.getDouble(3) / positions);
      double teacherPerplexity = Math.exp(-r.getDouble(4) / positions);
      Map<String, Double> m = new TreeMap<>();
      m.put("held_out_rows", (double) r.getLong(1));
      m.put("held_out_tokens", positions);
      m.put("student_perplexity", studentPerplexity);
      m.put("teacher_perplexity", teacherPerplexity);
      m.put(Gate.PERPLEXITY_RATIO, studentPerplexity / teacherPerplexity);
      m.put(Gate.TOP1_AGREEMENT, r.getLong(5) / positions);
      m.put("mean_kl", r.getDouble(6) / positions);
      m.forEach((k, v) -> metrics.put(prefix + k, v));
      Settings.Loss loss = s.train().loss();
      comparison.add(List.of(s.name(), String.format("α = %.2f, T = %.1f", loss.softLabelWeight(),
              loss.temperature()), String.format("%.3f", studentPerplexity),
          String.format("%.3f", m.get(Gate.PERPLEXITY_RATIO)), String.format("%.4f", m.get(Gate.TOP1_AGREEMENT)),
          String.format("%.4f", m.get("mean_kl"))));
      if (s.main()) {
        models.add("teacher");
        perplexities.add(teacherPerplexity);
      }
      models.add(s.name());
      perplexities.add(studentPerplexity);
    }
    if (students.size() > 1) {
      metrics.put("soft_minus_hard_perplexity", metrics.get("student_perplexity")
          - metrics.get("ablation." + StudentRecipe.HARD_LABELS + ".student_perplexity"));
    }
    TrainedStudent main = students.get(0);
    TaskEvaluation.writeScores(ctx, scored.where(col(STUDENT).equalTo(main.name()))
        .select(Cols.ROW_ID, POSITIONS, AGREE, KL, STUDENT_LOGPROB, TEACHER_LOGPROB, DISAGREEMENTS), heldOut);
    metrics.putAll(Throughput.measure(ctx, heldOut.withColumn(Cols.TEXT, concat(col(Cols.TEXT),
        col(Cols.COMPLETION))), new Contestants(settings.teacher(), main), WARM_UP).metrics("sequences"));
    List<Table> tables = new ArrayList<>();
    tables.add(new Table("Soft targets vs the teacher's tokens",
        "The same student trained on the same completions with the distillation loss (α > 0: the teacher's top-k "
            + "distribution at every position) and on the tokens the teacher wrote only (α = 0: next-token training "
            + "on the corpus), scored on the held-out completions: perplexity on the teacher's tokens (the "
            + "teacher's own is " + String.format("%.3f", metrics.get("teacher_perplexity")) + "), its ratio to "
            + "the teacher's, agreement with the teacher's most probable next token, and KL(teacher ‖ student) at "
            + "T = 1 with the teacher's mass beyond its top k spread evenly.",
        List.of("student", "loss", "perplexity", "ratio to teacher", "top-1 agreement", "mean KL"), comparison,
        Table.Content.SUMMARY));
    samples(heldOut, settings, main).ifPresent(tables::add);
    List<Figure> figures = List.of(new Figure("Perplexity on the teacher's completions",
        "Held-out completions read token by token: lower is surer of the teacher's tokens; the teacher's own is the "
            + "floor a student approaches.",
        Charts.bars("Perplexity", "model", "perplexity", models, perplexities)));
    return new EvaluationResult(metrics, tables, figures);
  }

  /** Held-out prompts (their first sample) completed by the teacher (generate's) and by the student. */
  private static Optional<Table> samples(Dataset<Row> heldOut, Settings settings, TrainedStudent student) {
    int n = settings.evaluate().samples();
    if (n == 0) {
      return Optional.empty();
    }
    // At most evaluate.samples rows reach the driver.
    List<Row> rows = heldOut.where(col(Cols.SAMPLE).equalTo(0)).select(Cols.ROW_ID, Cols.TEXT, Cols.COMPLETION,
            Cols.SEED)
        .orderBy(Cols.ROW_ID).limit(n).coalesce(1)
        .mapPartitions(new CompleteWithStudent(student, settings.generate().sampling(), settings.teacher().topK()),
            Encoders.row(SAMPLED))
        .collectAsList();
    List<List<String>> table = rows.stream().map(r -> List.of(r.getString(1), r.getString(2), r.getString(3)))
        .toList();
    Settings.Sampling s = settings.generate().sampling();
    return Optional.of(new Table("Held-out prompts, teacher and student",
        String.format("Each prompt's first sample: the teacher's completion from generate, and the student's with "
            + "the same sampling (temperature %.2f, top-p %.2f, up to %d tokens) and seed.", s.temperature(),
            s.topP(), s.maxTokens()),
        List.of("prompt", "teacher", "student"), table, Table.Content.HELD_OUT_ROWS));
  }

  /** The tokenizer a student reads with, one per JVM per vocabulary. */
  static Llama2Tokenizer tokenizer(LmStudentModel model) {
    return LmTraining.tokenizer(model.inputs(), model.tokenizerFile());
  }

  /** Executor side: every student's sums over each held-out completion's positions, beside the teacher's. */
  record ScoreLanguageModels(List<TrainedStudent> students) implements MapPartitionsFunction<Row, Row> {
    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
      List<LmStudentModel> models = students.stream()
          .map(s -> LmStudentModel.shared(new LmStudentModel.Spec(s.sha256()), s.model()::value)).toList();
      // Every student reads the same vocabulary (the train stage checks their inputs are equal).
      Llama2Tokenizer tokenizer = tokenizer(models.get(0));
      int vocab = models.get(0).inputs().vocabSize();
      return Iterators.flatMap(rows, r -> {
        String rowId = r.getString(0);
        int[] prompt = tokenizer.encode(r.getString(1), true);
        int[] tokens = PackedTokens.ids((byte[]) r.getAs(2));
        float[] teacherLogprobs = PackedTokens.logprobs((byte[]) r.getAs(3));
        byte[] topK = r.getAs(4);
        int k = (int) r.getLong(5);
        int[][] topIds = PackedTopK.ids(topK, k);
        float[][] topLogprobs = PackedTopK.logprobs(topK, k);
        return IntStream.range(0, models.size()).mapToObj(i -> {
          float[][] q = models.get(i).logprobs(prompt, tokens);
          double student = 0;
          double teacher = 0;
          long agree = 0;
          double kl = 0;
          List<Row> disagreements = new ArrayList<>();
          for (int p = 0; p < q.length; p++) {
            student += q[p][tokens[p]];
            teacher += teacherLogprobs[p];
            int top = argmax(q[p]);
            if (top == topIds[p][0]) {
              agree++;
            } else if (i == 0) {
              disagreements.add(disagreement(tokenizer, prompt, tokens, p, topIds[p][0], top,
                  Math.exp(topLogprobs[p][0]), Math.exp(q[p][topIds[p][0]])));
            }
            kl += kl(topIds[p], topLogprobs[p], q[p], vocab);
          }
          return SparkRows.of(SCORED, Map.of(STUDENT, students.get(i).name(), Cols.ROW_ID, rowId,
              POSITIONS, (long) q.length, STUDENT_LOGPROB, student, TEACHER_LOGPROB, teacher, AGREE, agree, KL, kl,
              DISAGREEMENTS, disagreements.toArray(Row[]::new)));
        });
      });
    }

    /** Position {@code p} of {@code tokens} (the completion after {@code prompt}), decoded for a reader. */
    private static Row disagreement(Llama2Tokenizer tokenizer, int[] prompt, int[] tokens, int p, int teacherToken,
        int studentToken, double teacherProbability, double studentProbability) {
      int from = Math.max(0, p - CONTEXT_TOKENS);
      int before = from > 0 ? tokens[from - 1] : prompt[prompt.length - 1];
      int previous = p > 0 ? tokens[p - 1] : prompt[prompt.length - 1];
      return SparkRows.of(DISAGREEMENT, Map.of("position", p,
          "context", (from > 0 ? "…" : "") + tokenizer.decode(before, Arrays.copyOfRange(tokens, from, p)),
          "teacher_token", tokenizer.decode(previous, new int[] {teacherToken}),
          "student_token", tokenizer.decode(previous, new int[] {studentToken}),
          "teacher_probability", teacherProbability, "student_probability", studentProbability));
    }

    private static int argmax(float[] v) {
      int best = 0;
      for (int i = 1; i < v.length; i++) {
        best = v[i] > v[best] ? i : best;
      }
      return best;
    }

    /** KL(p ‖ q) with p the teacher's top k (the rest spread evenly) and q the student's log-probabilities. */
    private static double kl(int[] ids, float[] logprobs, float[] q, int vocab) {
      double[] probabilities = new double[ids.length];
      for (int i = 0; i < ids.length; i++) {
        probabilities[i] = Math.exp(logprobs[i]);
      }
      float[] p = SoftTargets.of(ids, probabilities, vocab, 1.0);
      double kl = 0;
      for (int v = 0; v < vocab; v++) {
        if (p[v] > 0) {
          kl += p[v] * (Math.log(p[v]) - q[v]);
        }
      }
      return kl;
    }
  }

  /** Executor side: the student completes each prompt with the sample's seed. */
  record CompleteWithStudent(TrainedStudent student, Settings.Sampling sampling, int k)
      implements MapPartitionsFunction<Row, Row> {
    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
      LmStudentModel model = LmStudentModel.shared(new LmStudentModel.Spec(student.sha256()), student.model()::value);
      Llama2Tokenizer tokenizer = tokenizer(model);
      return Iterators.map(rows, r -> {
        Completion c = Decoding.complete(tokenizer, model.inputs().maxTokens(), model.session()::next,
            r.getString(1), sampling.withSeed(r.getLong(3)), k);
        return SparkRows.of(SAMPLED, Map.of(Cols.ROW_ID, r.getString(0), Cols.TEXT, r.getString(1),
            Cols.COMPLETION, r.getString(2), STUDENT_COMPLETION, c.text()));
      });
    }
  }

  /**
   * Executor side: the teacher and the student each reading the same prompt-and-completion texts, cut to the
   * teacher's context (a remote teacher is not timed here: its recorded latency stands for it).
   */
  record Contestants(Settings.Teacher teacher, TrainedStudent student) implements Throughput.Contestants.Opener {
    @Override
    public Throughput.Contestants open() {
      LmStudentModel model = LmStudentModel.shared(new LmStudentModel.Spec(student.sha256()),
          student.model()::value);
      Llama2Tokenizer tokenizer = tokenizer(model);
      Optional<Llama2Teacher> llama = teacher.remote() ? Optional.empty() : Optional.of(Llama2Teacher.shared(teacher));
      int context = llama.map(l -> l.model().config().seqLen()).orElse(model.inputs().maxTokens());
      // Both are the JVM's shared instances: nothing to close.
      return new Throughput.Contestants(llama.map(l -> texts -> texts.forEach(text -> {
        Llama2Model.Session s = l.model().session();
        for (int id : cut(tokenizer.encode(text, true), context)) {
          s.next(id);
        }
      })), texts -> texts.forEach(text -> {
        LmStudentModel.Session s = model.session();
        for (int id : cut(tokenizer.encode(text, true), context)) {
          s.next(id);
        }
      }), llama.map(Llama2Teacher::modelBytes).orElse(0L), () -> { });
    }

    private static int[] cut(int[] ids, int context) {
      return ids.length <= context ? ids : Arrays.copyOf(ids, context);
    }
  }
}
