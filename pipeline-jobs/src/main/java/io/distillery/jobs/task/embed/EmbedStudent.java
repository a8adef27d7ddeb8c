package io.distillery.jobs.task.embed;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.distillery.corpus.Split;
import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.jobs.spark.Iterators;
import io.distillery.jobs.stage.StageContext;
import io.distillery.jobs.task.StudentPlan;
import io.distillery.jobs.task.StudentRecipe;
import io.distillery.run.StageManifest;
import io.distillery.settings.Settings;
import io.distillery.settings.StudentInit;
import io.distillery.student.StaticEmbeddingStudent;
import io.distillery.student.StudentArtifact;
import io.distillery.student.StudentInputs;
import io.distillery.student.Vocabulary;
import io.distillery.tokenizer.Tokenizer;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.LongStream;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;

/**
 * The embed student: an embedding bag over the corpus's tokens in the teacher's vocabulary, started from the
 * teacher's own vectors (its hidden states in context, or each token alone) or at random, trained on (text, teacher
 * embedding) examples.
 */
final class EmbedStudent implements StudentRecipe<EmbedStudent.Inputs> {
  private static final String ALONE = "alone";
  private static final String CONTEXT = "context";
  private static final String CONTEXT_ID = "context_id";
  private static final String CONTEXT_OCCURRENCES = "context_occurrences";
  private static final String WORD = "word";

  /** The student's inputs as the model card records them. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  record Facts(int vocabularyRows, int knownWords, StudentInit init) {}

  /**
   * The vocabulary (what the examples' executors need) and the training split's most frequent words, which ship with
   * the student tokenized ({@link StudentArtifact#knownWords}).
   */
  record Inputs(Vocabulary vocabulary, List<String> knownWords) implements Serializable {
    Inputs {
      knownWords = List.copyOf(knownWords);
    }
  }

  @Override
  public StudentPlan<Inputs> plan(StageContext ctx, StageManifest generate) {
    Settings settings = ctx.settings();
    Integer dimension = generate.details(EmbedOutputs.class).dimension();
    if (dimension == null) {
      throw new IllegalStateException("The generate manifest of run '" + generate.runId() + "' records no "
          + "embedding_dimension; re-run generate.");
    }
    if (settings.student().initFromTeacherContexts() && !ctx.has(DatasetKind.TEACHER_TOKEN_CONTEXTS)) {
      throw new IllegalStateException(Settings.Student.INIT.is(StudentInit.TEACHER_CONTEXT) + " needs the "
          + "teacher's token contexts, which generate writes to "
          + ctx.describe(DatasetKind.TEACHER_TOKEN_CONTEXTS) + "; run '" + ctx.layout().runId()
          + "' was generated without them. Re-run generate with --force (one more teacher pass), or set "
          + Settings.Student.INIT.path() + " = " + StudentInit.TEACHER_TOKENS + ".");
    }
    // Starting from the teacher, the tokens the teacher embedded; else (random init, e.g. a remote teacher) every
    // token of the prompts, counted here.
    Dataset<Row> tokens = settings.student().initFromTeacher()
        ? ctx.read(DatasetKind.TEACHER_TOKEN_EMBEDDINGS)
        : ctx.read(DatasetKind.PROMPTS).select(Cols.TEXT)
            .flatMap(new EmbedGeneration.TokenIds(settings.teacher()), Encoders.LONG())
            .groupBy(col("value").as(Cols.TOKEN_ID)).agg(count(lit(1)).as(Cols.OCCURRENCES));
    tokens = tokens.where(col(Cols.OCCURRENCES).geq(settings.student().minTokenCount()));
    // Model metadata, bounded by the tokenizer's vocabulary size (tens of thousands of ids).
    LongStream ids = tokens.select(Cols.TOKEN_ID).as(Encoders.LONG()).collectAsList().stream()
        .mapToLong(Long::longValue);
    // The special tokens the teacher reads around every text: with rows for them (teacher-context), the student
    // pools them too.
    long[] special = Tokenizer.shared(settings.teacher().tokenizer(), settings.teacher().maxTokens()).specialIds();
    if (settings.student().initFromTeacherContexts()) {
      ids = LongStream.concat(ids, Arrays.stream(special));
    }
    Vocabulary vocabulary = Vocabulary.of(ids.toArray());
    MultiLayerNetwork net = new MultiLayerNetwork(StaticEmbeddingStudent.configuration(settings.student(),
        settings.train(), vocabulary.size(), dimension));
    net.init();
    if (settings.student().initFromTeacherTokens()) {
      StaticEmbeddingStudent.initialiseFromTeacherTokens(net, Iterators.map(
          tokens.select(Cols.TOKEN_ID, Cols.EMBEDDING).toLocalIterator(),
          r -> Map.entry(vocabulary.row(r.getLong(0)), Vectors.floats(r.getList(1)))));
    }
    if (settings.student().initFromTeacherContexts()) {
      StaticEmbeddingStudent.initialiseFromTeacherContexts(net, settings.student().contextPrior(),
          tokenVectors(ctx, tokens, special, vocabulary)::iterator);
    }
    List<String> known = knownWords(ctx, settings.student().knownWords());
    return new StudentPlan<>(net, new Inputs(vocabulary, known),
        new Facts(vocabulary.size(), known.size(), settings.student().init()));
  }

  /**
   * The training split's {@code limit} most frequent words (ties by the word): model metadata, bounded by the
   * setting like the vocabulary by the tokenizer's.
   */
  private static List<String> knownWords(StageContext ctx, int limit) {
    if (limit == 0) {
      return List.of();
    }
    return ctx.read(DatasetKind.PROMPTS).where(col(Cols.SPLIT).equalTo(Split.TRAIN.label())).select(Cols.TEXT)
        .flatMap(new Words(), Encoders.STRING())
        .groupBy(col("value").as(WORD)).agg(count(lit(1)).as(Cols.OCCURRENCES))
        .orderBy(col(Cols.OCCURRENCES).desc(), col(WORD))
        .limit(limit).select(WORD).as(Encoders.STRING()).collectAsList();
  }

  /** Executor side: a prompt's words, split at whitespace as the tokenizer splits them. */
  static final class Words implements FlatMapFunction<Row, String> {
    @Override
    public Iterator<String> call(Row row) {
      String text = row.getString(0);
      char[] chars = text.toCharArray();
      List<String> words = new ArrayList<>();
      for (int start = Tokenizer.wordStart(chars, 0, chars.length); start < chars.length; ) {
        int end = Tokenizer.wordEnd(chars, start, chars.length);
        words.add(text.substring(start, end));
        start = Tokenizer.wordStart(chars, end, chars.length);
      }
      return words.iterator();
    }
  }

  /**
   * Every vocabulary row with what the teacher has for it: alone (all but the special tokens), in context (tokens of
   * the training split). Held on the driver while the student starts (read once, used twice): one row per vocabulary
   * token, like the embedding table itself.
   */
  private static List<StaticEmbeddingStudent.TokenVectors> tokenVectors(StageContext ctx, Dataset<Row> tokens,
      long[] special, Vocabulary vocabulary) {
    Dataset<Row> contexts = ctx.read(DatasetKind.TEACHER_TOKEN_CONTEXTS);
    Dataset<Row> inContext = contexts.select(col(Cols.TOKEN_ID).as(CONTEXT_ID), col(Cols.EMBEDDING).as(CONTEXT),
        col(Cols.OCCURRENCES).as(CONTEXT_OCCURRENCES));
    Dataset<Row> specialInContext = contexts
        .where(col(Cols.TOKEN_ID).isin(Arrays.stream(special).boxed().toArray()))
        .select(col(Cols.TOKEN_ID), lit(null).cast(DataTypes.createArrayType(DataTypes.FloatType)).as(ALONE),
            col(Cols.EMBEDDING).as(CONTEXT), col(Cols.OCCURRENCES).as(CONTEXT_OCCURRENCES));
    Dataset<Row> both = tokens.join(inContext, col(Cols.TOKEN_ID).equalTo(col(CONTEXT_ID)), "left_outer")
        .select(col(Cols.TOKEN_ID), col(Cols.EMBEDDING).as(ALONE), col(CONTEXT), col(CONTEXT_OCCURRENCES))
        .unionByName(specialInContext);
    List<StaticEmbeddingStudent.TokenVectors> vectors = new ArrayList<>();
    both.toLocalIterator().forEachRemaining(r -> vectors.add(new StaticEmbeddingStudent.TokenVectors(
        vocabulary.row(r.getLong(0)),
        r.isNullAt(1) ? Optional.empty() : Optional.of(Vectors.floats(r.getList(1))),
        r.isNullAt(2) ? Optional.empty()
            : Optional.of(new StaticEmbeddingStudent.Context(Vectors.floats(r.getList(2)), r.getLong(3))))));
    return vectors;
  }

  @Override
  public JavaRDD<DataSet> examples(Settings settings, Dataset<Row> outputs, Inputs inputs) {
    return outputs.select(Cols.TEXT, Cols.EMBEDDING).javaRDD()
        .mapPartitions(new ToExamples(settings.teacher(), settings.student(), inputs.vocabulary()));
  }

  @Override
  public byte[] artifact(Inputs inputs, MultiLayerNetwork trained) {
    return StudentArtifact.of(trained, inputs.vocabulary(), inputs.knownWords()).toBytes();
  }

  /** Executor side: (text, teacher embedding) rows to one-example DataSets. */
  record ToExamples(Settings.Teacher teacher, Settings.Student student, Vocabulary vocabulary)
      implements FlatMapFunction<Iterator<Row>, DataSet> {
    @Override
    public Iterator<DataSet> call(Iterator<Row> rows) {
      StudentInputs inputs = new StudentInputs(Tokenizer.shared(teacher.tokenizer(), teacher.maxTokens()),
          vocabulary, student.maxTokens(), List.of());
      return Iterators.map(rows, r -> inputs.example(r.getString(0), Vectors.floats(r.getList(1))));
    }
  }
}
