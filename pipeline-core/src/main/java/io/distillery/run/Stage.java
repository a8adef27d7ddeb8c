package io.distillery.run;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** The pipeline's stages in order, each with the config sections its output depends on. */
public enum Stage {
  INGEST(List.of("corpus")),
  GENERATE(List.of("corpus", "teacher", "generate")),
  TRAIN(List.of("corpus", "teacher", "generate", "student", "train")),
  EVALUATE(List.of("corpus", "teacher", "generate", "student", "train", "evaluate"));

  private final List<String> configSections;

  Stage(List<String> configSections) {
    this.configSections = configSections;
  }

  public List<String> configSections() {
    return configSections;
  }

  /** The stages before this one, whose outputs it reads, in order. */
  public List<Stage> upstream() {
    return Arrays.asList(values()).subList(0, ordinal());
  }

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
