package io.distillery.jobs.task;

import io.distillery.settings.TaskKind;
import java.util.Optional;

/**
 * A kind of distillation, in three parts, one per stage that differs between kinds: what generate asks the teacher
 * and the rows it writes, the student and how it learns from those rows, and how a trained student is scored
 * against the teacher. The stage jobs own everything common (datasets, manifests, accounting, reuse, terms,
 * checkpoints, the training master, the gate). Each kind is one package beside this one, which makes its parts;
 * {@code jobs.pipeline.TaskRegistry} is the one place that names them. A kind without a student yet (its
 * {@link TaskKind#student()} is none) generates its dataset and stops there.
 */
public record DistillationTask(TaskKind kind, TaskGeneration generation, Optional<StudentRecipe<?>> student,
    Optional<TaskEvaluation> evaluation) {

  /** A kind with all three parts. */
  public static DistillationTask of(TaskKind kind, TaskGeneration generation, StudentRecipe<?> student,
      TaskEvaluation evaluation) {
    return new DistillationTask(kind, generation, Optional.of(student), Optional.of(evaluation));
  }

  /** A kind that generates its dataset only. */
  public static DistillationTask generating(TaskKind kind, TaskGeneration generation) {
    return new DistillationTask(kind, generation, Optional.empty(), Optional.empty());
  }
}
