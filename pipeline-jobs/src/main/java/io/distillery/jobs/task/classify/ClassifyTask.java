package io.distillery.jobs.task.classify;

import io.distillery.jobs.task.DistillationTask;
import io.distillery.settings.TaskKind;

/**
 * Classification distillation with soft labels (Hinton et al. 2015): the teacher's label distribution (its top-k) is
 * the target ({@link ClassifyGeneration}), {@code KnowledgeDistillationLoss} the loss and a hashed character n-gram
 * MLP the student, optionally with the same student trained on hard labels only beside it ({@link ClassifyStudent});
 * agreement, calibration and the two students side by side in the report ({@link ClassifyEvaluation}).
 */
public final class ClassifyTask {
  private ClassifyTask() {}

  public static DistillationTask create() {
    return DistillationTask.of(TaskKind.CLASSIFY, new ClassifyGeneration(), new ClassifyStudent(),
        new ClassifyEvaluation());
  }
}
