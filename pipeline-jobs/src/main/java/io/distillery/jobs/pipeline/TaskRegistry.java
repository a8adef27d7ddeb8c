package io.distillery.jobs.pipeline;

import io.distillery.jobs.task.DistillationTask;
import io.distillery.jobs.task.classify.ClassifyTask;
import io.distillery.jobs.task.embed.EmbedTask;
import io.distillery.jobs.task.languagemodel.LmTask;
import io.distillery.settings.TaskKind;

/**
 * The one place that names the task kinds' packages: a kind of distillation is its package under
 * {@code jobs.task} plus its entry here (the switch is exhaustive, so a new {@link TaskKind} without one does not
 * compile).
 */
public final class TaskRegistry {
  private TaskRegistry() {}

  public static DistillationTask of(TaskKind kind) {
    return switch (kind) {
      case EMBED -> EmbedTask.create();
      case CLASSIFY -> ClassifyTask.create();
      case LANGUAGE_MODEL -> LmTask.create();
    };
  }
}
