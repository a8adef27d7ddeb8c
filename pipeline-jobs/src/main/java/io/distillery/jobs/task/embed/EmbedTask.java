package io.distillery.jobs.task.embed;

import io.distillery.jobs.task.DistillationTask;
import io.distillery.settings.TaskKind;

/**
 * Sentence-embedding distillation: the teacher's embedding of each prompt is the target ({@link EmbedGeneration}), a
 * static embedding bag the student, cosine (and/or MSE) the loss ({@link EmbedStudent}), cosine and neighbour
 * agreement on held-out prompts the gate ({@link EmbedEvaluation}).
 */
public final class EmbedTask {
  private EmbedTask() {}

  public static DistillationTask create() {
    return DistillationTask.of(TaskKind.EMBED, new EmbedGeneration(), new EmbedStudent(), new EmbedEvaluation());
  }
}
