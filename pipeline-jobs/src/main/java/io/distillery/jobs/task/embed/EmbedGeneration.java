package io.distillery.jobs.task.embed;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.size;

import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.dataset.DatasetRow;
import io.distillery.jobs.spark.Iterators;
import io.distillery.jobs.spark.SparkRows;
import io.distillery.jobs.spark.SparkSchemas;
import io.distillery.jobs.stage.StageContext;
import io.distillery.jobs.task.AnswerColumns;
import io.distillery.jobs.task.Byproduct;
import io.distillery.jobs.task.PartitionTeacher;
import io.distillery.jobs.task.TaskGeneration;
import io.distillery.provenance.Provenance;
import io.distillery.provenance.RequestHash;
import io.distillery.run.StageDetails;
import io.distillery.settings.Settings;
import io.distillery.teacher.ContextualEmbeddingTeacher;
import io.distillery.teacher.TeacherAnswer;
import io.distillery.teacher.Teachers;
import io.distillery.teacher.TokenContexts;
import io.distillery.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;

/**
 * Generate for task embed: the teacher's embedding of each prompt (teacher-embeddings); an in-process teacher also
 * sums its hidden states per token over the training split while it answers ({@link TokenContextSums}, the
 * student's start) and embeds every corpus token alone (teacher-token-embeddings).
 */
final class EmbedGeneration implements TaskGeneration {

  @Override
  public DatasetKind output() {
    return DatasetKind.TEACHER_EMBEDDINGS;
  }

  @Override
  public AnswerColumns columns() {
    return new EmbeddingColumn();
  }

  /** Executor side: an answer's embedding is the row's embedding column. */
  record EmbeddingColumn() implements AnswerColumns {
    @Override
    public Map<String, Object> of(TeacherAnswer answer) {
      return Map.of(Cols.EMBEDDING, ((TeacherAnswer.Embedding) answer).vector());
    }
  }

  @Override
  public PartitionTeacher.Opener inProcess(Settings settings) {
    return new EmbedAndSum(settings.teacher());
  }

  /**
   * An in-process teacher sums its hidden states per token over the training split while it answers: the student's
   * start for student.init = teacher-context, at no extra teacher pass. Emitted whatever the init, so that generate
   * does not depend on the student's settings.
   */
  @Override
  public Optional<Byproduct> byproduct(Settings settings) {
    return settings.teacher().remote() ? Optional.empty() : Optional.of(new TokenContextSums());
  }

  @Override
  public StageDetails describe(StageContext ctx, Dataset<Row> outputs) {
    Row dims = outputs.agg(min(size(col(Cols.EMBEDDING))), max(size(col(Cols.EMBEDDING)))).first();
    if (dims.isNullAt(0)) {
      return new EmbedOutputs(null);
    }
    if (dims.getInt(0) != dims.getInt(1)) {
      throw new IllegalStateException("Teacher embeddings have mixed dimensions " + dims.getInt(0) + " to "
          + dims.getInt(1) + "; one run must use one teacher.");
    }
    return new EmbedOutputs(dims.getInt(0));
  }

  /**
   * Every token of the corpus, embedded alone: for evaluation this equals a student over the teacher's whole
   * vocabulary (a token's vector comes from the teacher's view of the token alone, never from a held-out sentence),
   * without shipping rows no input uses. A remote teacher's student takes its vocabulary from the prompts instead.
   */
  @Override
  public Map<String, Long> auxiliary(StageContext ctx) {
    Settings settings = ctx.settings();
    if (settings.teacher().remote()) {
      return Map.of();
    }
    Dataset<Row> tokens = ctx.read(DatasetKind.PROMPTS)
        .select(Cols.TEXT)
        .flatMap(new TokenIds(settings.teacher()), Encoders.LONG())
        .groupBy(col("value").as(Cols.TOKEN_ID)).count()
        .repartition(settings.spark().partitions());
    ctx.write(tokens.mapPartitions(new EmbedTokens(settings.teacher()),
        Encoders.row(SparkSchemas.of(DatasetKind.TEACHER_TOKEN_EMBEDDINGS))), DatasetKind.TEACHER_TOKEN_EMBEDDINGS);
    return Map.of("vocabulary_tokens", ctx.read(DatasetKind.TEACHER_TOKEN_EMBEDDINGS).count());
  }

  /**
   * Executor side: embeds each prompt with the JVM's shared teacher, summing its hidden states per token over the
   * training split's prompts as it goes; after the last prompt, hands over those sums.
   */
  record EmbedAndSum(Settings.Teacher spec) implements PartitionTeacher.Opener {
    @Override
    public PartitionTeacher open() {
      ContextualEmbeddingTeacher teacher = Teachers.contextual(spec);
      TokenContexts contexts = teacher.newContexts();
      String parameters = "max-tokens=" + spec.maxTokens();
      return new PartitionTeacher(teacher.identity(), prompt -> parameters,
          prompt -> new TeacherAnswer.Embedding(prompt.training() ? teacher.embed(prompt.text(), contexts)
              : teacher.embed(prompt.text())),
          () -> Iterators.map(contexts.totals(), TokenContextSums::partial));
    }
  }

  /** Executor side: every token id of each text (the teacher's tokenizer, no special tokens). */
  record TokenIds(Settings.Teacher teacher) implements FlatMapFunction<Row, Long> {
    @Override
    public Iterator<Long> call(Row row) {
      long[] ids = Tokenizer.shared(teacher.tokenizer(), teacher.maxTokens()).tokenIds(row.getString(0),
          teacher.maxTokens());
      return Arrays.stream(ids).boxed().iterator();
    }
  }

  /** Executor side: the teacher's embedding of each (token id, occurrences) alone, with provenance. */
  record EmbedTokens(Settings.Teacher spec) implements MapPartitionsFunction<Row, Row> {
    @Override
    public Iterator<Row> call(Iterator<Row> tokens) {
      ContextualEmbeddingTeacher teacher = Teachers.contextual(spec);
      return Iterators.map(tokens, t -> {
        long id = t.getLong(0);
        long start = System.nanoTime();
        float[] embedding = teacher.embedToken(id);
        Provenance provenance = Provenance.inProcess(teacher.identity(),
            RequestHash.of(teacher.identity(), "token", Long.toString(id)), (System.nanoTime() - start) / 1e6);
        return SparkRows.of(DatasetRow.of(DatasetKind.TEACHER_TOKEN_EMBEDDINGS)
            .set(Cols.TOKEN_ID, id)
            .set(Cols.OCCURRENCES, t.getLong(1))
            .set(Cols.EMBEDDING, embedding)
            .provenance(provenance));
      });
    }
  }
}
