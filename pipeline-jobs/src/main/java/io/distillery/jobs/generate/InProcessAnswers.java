package io.distillery.jobs.generate;

import io.distillery.jobs.spark.Iterators;
import io.distillery.jobs.task.AnswerColumns;
import io.distillery.jobs.task.PartitionTeacher;
import io.distillery.jobs.task.Prompt;
import io.distillery.provenance.Provenance;
import io.distillery.provenance.RequestHash;
import io.distillery.teacher.TeacherAnswer;
import java.util.Iterator;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;

/**
 * Executor side of generate for an in-process teacher: prompt rows in, one {@link AttemptRows} row each out (a
 * teacher error becomes a failed row, never a lost one), then the teacher's by-product rows, if the task has any.
 * The partition's teacher is opened in {@link #call} over the executor JVM's one shared model.
 */
record InProcessAnswers(PartitionTeacher.Opener teacher, AnswerColumns columns, AttemptRows rows)
    implements MapPartitionsFunction<Row, Row> {

  @Override
  public Iterator<Row> call(Iterator<Row> prompts) {
    PartitionTeacher partition = teacher.open();
    Iterator<Row> answers = Iterators.map(prompts, row -> ask(partition, Prompt.of(row)));
    return rows.hasByproduct()
        ? Iterators.then(answers, () -> Iterators.map(partition.byproducts().get(), rows::byproduct))
        : answers;
  }

  private Row ask(PartitionTeacher partition, Prompt prompt) {
    long start = System.nanoTime();
    try {
      TeacherAnswer answer = partition.answer().apply(prompt);
      String requestHash = RequestHash.of(partition.identity(), partition.parameters().apply(prompt), prompt.text());
      Provenance provenance = Provenance.inProcess(partition.identity(), requestHash,
          (System.nanoTime() - start) / 1e6);
      return rows.answered(prompt, columns.of(answer), answer.usage()
          .map(u -> provenance.withUsage(u.promptTokens(), u.completionTokens())).orElse(provenance), 1);
    } catch (RuntimeException e) {
      return rows.failed(TeacherFailure.of(prompt.rowId(), prompt.text(), e, 1), partition.identity());
    }
  }
}
