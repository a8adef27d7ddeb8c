package io.distillery.jobs.task.classify;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.explode;

import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.jobs.stage.StageContext;
import io.distillery.jobs.task.AnswerColumns;
import io.distillery.jobs.task.Byproduct;
import io.distillery.jobs.task.PartitionTeacher;
import io.distillery.jobs.task.TaskGeneration;
import io.distillery.run.StageDetails;
import io.distillery.settings.Settings;
import io.distillery.teacher.LabelTeacher;
import io.distillery.teacher.TeacherAnswer;
import io.distillery.teacher.Teachers;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;

/** Generate for task classify: the teacher's top-k labels and their probabilities for each prompt. */
final class ClassifyGeneration implements TaskGeneration {

  @Override
  public DatasetKind output() {
    return DatasetKind.TEACHER_LABELS;
  }

  @Override
  public AnswerColumns columns() {
    return new LabelColumns();
  }

  /** Executor side: an answer's top labels and their probabilities are the row's. */
  record LabelColumns() implements AnswerColumns {
    @Override
    public Map<String, Object> of(TeacherAnswer answer) {
      LabelTeacher.TopK top = ((TeacherAnswer.Labels) answer).top();
      return Map.of(Cols.TOP_LABELS, top.labels(), Cols.TOP_PROBABILITIES, top.probabilities());
    }
  }

  @Override
  public PartitionTeacher.Opener inProcess(Settings settings) {
    return new TopLabels(settings.teacher());
  }

  @Override
  public Optional<Byproduct> byproduct(Settings settings) {
    return Optional.empty();
  }

  @Override
  public StageDetails describe(StageContext ctx, Dataset<Row> outputs) {
    Map<String, Long> top = new TreeMap<>();
    // At most one row per label of the vocabulary.
    for (Row r : outputs.groupBy(element_at(col(Cols.TOP_LABELS), 1)).count().collectAsList()) {
      top.put(r.getString(0), r.getLong(1));
    }
    return new LabelOutputs(labels(ctx.settings().teacher(), outputs), ctx.settings().teacher().topK(), top);
  }

  /**
   * The label vocabulary, alphabetical. In-process: the teacher's own (the driver opens the same model file the
   * executors did; the rows' model sha256 is checked against one identity by the generate stage). Remote:
   * teacher.http.labels, else every label the teacher answered with (at most one row per label reaches the driver).
   */
  private static List<String> labels(Settings.Teacher spec, Dataset<Row> outputs) {
    if (!spec.remote()) {
      return Teachers.labels(spec).labels();
    }
    if (!spec.http().labels().isEmpty()) {
      return spec.http().labels().stream().sorted().distinct().toList();
    }
    return outputs.select(explode(col(Cols.TOP_LABELS))).distinct().as(Encoders.STRING()).collectAsList().stream()
        .sorted().toList();
  }

  /** Executor side: the teacher's label distribution of each prompt, its top k kept. */
  record TopLabels(Settings.Teacher spec) implements PartitionTeacher.Opener {
    @Override
    public PartitionTeacher open() {
      LabelTeacher teacher = Teachers.labels(spec);
      String parameters = "top-k=" + spec.topK();
      return PartitionTeacher.answering(teacher.identity(), prompt -> parameters,
          prompt -> new TeacherAnswer.Labels(LabelTeacher.TopK.of(teacher.distribution(prompt.text()),
              teacher.labels(), spec.topK())));
    }
  }
}
