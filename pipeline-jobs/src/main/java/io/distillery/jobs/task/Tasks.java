package io.distillery.jobs.task;

import io.distillery.settings.Settings;

/** Chooses the task plug-in named by distillery.task. */
public final class Tasks {
  private Tasks() {}

  public static DistillationTask of(Settings settings) {
    return switch (settings.task()) {
      case "embed" -> new EmbedTask();
      case "classify" -> new ClassifyTask();
      default -> throw new IllegalArgumentException("distillery.task: no task named " + settings.task());
    };
  }
}
