package io.distillery.run;

import io.distillery.dataset.DatasetKind;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The pipeline's stages in order, each with the config sections its output depends on and the datasets it may write
 * (a dataset's partition of a run is written by one stage only).
 */
public enum Stage {
  INGEST(List.of("corpus"), List.of(DatasetKind.PROMPTS, DatasetKind.QUARANTINE)),
  GENERATE(List.of("corpus", "teacher", "generate"), List.of(DatasetKind.TEACHER_EMBEDDINGS,
      DatasetKind.TEACHER_TOKEN_EMBEDDINGS, DatasetKind.TEACHER_TOKEN_CONTEXTS, DatasetKind.TEACHER_LABELS,
      DatasetKind.TEACHER_COMPLETIONS, DatasetKind.TEACHER_QUARANTINE, DatasetKind.TEACHER_FAILURES)),
  TRAIN(List.of("corpus", "teacher", "generate", "student", "train"), List.of()),
  EVALUATE(List.of("corpus", "teacher", "generate", "student", "train", "evaluate"), List.of());

  private final List<String> configSections;
  private final List<DatasetKind> writes;

  Stage(List<String> configSections, List<DatasetKind> writes) {
    this.configSections = configSections;
    this.writes = writes;
  }

  /** The datasets this stage may write. */
  public List<DatasetKind> writes() {
    return writes;
  }

  /** The stage that writes a dataset. */
  public static Stage writing(DatasetKind kind) {
    return Arrays.stream(values()).filter(s -> s.writes.contains(kind)).findFirst().orElseThrow();
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
