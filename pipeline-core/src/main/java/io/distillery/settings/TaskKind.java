package io.distillery.settings;

import java.util.Set;

/**
 * A kind of distillation (distillery.task), with the teacher and student kinds it runs with. Its generate, student
 * and evaluation parts live in one package of the jobs module, chosen by the task registry there.
 */
public enum TaskKind implements Named {
  /** Sentence embeddings: the teacher's embedding is the target. */
  EMBED(Set.of(TeacherKind.ONNX_EMBEDDING, TeacherKind.OPENAI_EMBEDDINGS), StudentKind.STATIC_EMBEDDING,
      true),
  /** Label distributions: Hinton-style soft-label distillation. */
  CLASSIFY(Set.of(TeacherKind.OPENNLP_LANGDETECT, TeacherKind.OPENAI_CHAT, TeacherKind.OPENAI_COMPLETIONS),
      StudentKind.CHAR_NGRAM_MLP, false),
  /**
   * Language models: the teacher's completions of prompts, with its per-token top-k log-probabilities, as a corpus
   * (student.kind = none: the corpus is the product), and a small LSTM language model distilled from them.
   */
  LANGUAGE_MODEL(Set.of(TeacherKind.LLAMA2C), StudentKind.LSTM_LM, false);

  private final Set<TeacherKind> teachers;
  private final StudentKind student;
  private final boolean studentStartsFromTeacher;

  TaskKind(Set<TeacherKind> teachers, StudentKind student, boolean studentStartsFromTeacher) {
    this.teachers = teachers;
    this.student = student;
    this.studentStartsFromTeacher = studentStartsFromTeacher;
  }

  /** The teacher kinds this task can learn from. */
  public Set<TeacherKind> teachers() {
    return teachers;
  }

  /** The student kind this task trains ({@link StudentKind#NONE}: none yet; any task may also be run without one). */
  public StudentKind student() {
    return student;
  }

  /** Whether its student can start from an in-process teacher's own vectors (student.init = teacher-*). */
  public boolean studentStartsFromTeacher() {
    return studentStartsFromTeacher;
  }

  @Override
  public String toString() {
    return configName();
  }
}
