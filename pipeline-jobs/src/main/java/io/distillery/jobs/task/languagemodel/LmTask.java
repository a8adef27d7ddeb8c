package io.distillery.jobs.task.languagemodel;

import io.distillery.jobs.task.DistillationTask;
import io.distillery.settings.TaskKind;

/**
 * Language models: the teacher completes every prompt {@code generate.samples} times, and each completion is a row of
 * teacher-completions with its tokens and, per position, the teacher's top-k log-probabilities
 * ({@link LmGeneration}). A corpus for fine-tuning tools (student.kind = none), and what the student language model
 * learns from: an LSTM trained on the teacher's top-k distribution at every completion token ({@link LmStudent}),
 * scored against the teacher on held-out completions ({@link LmEvaluation}).
 */
public final class LmTask {
  private LmTask() {}

  public static DistillationTask create() {
    return DistillationTask.of(TaskKind.LANGUAGE_MODEL, new LmGeneration(), new LmStudent(), new LmEvaluation());
  }
}
