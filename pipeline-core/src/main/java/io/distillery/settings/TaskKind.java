package io.distillery.settings;

import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A kind of distillation (distillery.task), with the teacher and student kinds it runs with. Its generate, student
 * and evaluation parts live in one package of the jobs module, chosen by the task registry there.
 */
public enum TaskKind implements Named {
  /** Sentence embeddings: the teacher's embedding is the target. */
  EMBED(TeacherKind.Answer.EMBEDDING, StudentKind.STATIC_EMBEDDING, StudentUse.EMBEDDING_MODEL, true),
  /** Label distributions: Hinton-style soft-label distillation. */
  CLASSIFY(TeacherKind.Answer.LABELS, StudentKind.CHAR_NGRAM_MLP, StudentUse.CLASSIFIER, false),
  /**
   * Language models: the teacher's completions of prompts, with its per-token top-k log-probabilities, as a corpus
   * (student.kind = none: the corpus is the product), and a small LSTM language model distilled from them.
   */
  LANGUAGE_MODEL(TeacherKind.Answer.COMPLETION, StudentKind.LSTM_LM, StudentUse.LANGUAGE_MODEL, false);

  private final TeacherKind.Answer answer;
  private final StudentKind student;
  private final StudentUse studentUse;
  private final boolean studentStartsFromTeacher;

  TaskKind(TeacherKind.Answer answer, StudentKind student, StudentUse studentUse, boolean studentStartsFromTeacher) {
    this.answer = answer;
    this.student = student;
    this.studentUse = studentUse;
    this.studentStartsFromTeacher = studentStartsFromTeacher;
  }

  /** The teacher's answers in words, for reports. */
  public String answerDescription() {
    return switch (this) {
      case EMBED -> "sentence embeddings";
      case CLASSIFY -> "label distributions";
      case LANGUAGE_MODEL -> "completions with per-token top-k log-probabilities";
    };
  }

  /** What this task asks its teacher for. */
  public TeacherKind.Answer answer() {
    return answer;
  }

  /** The teacher kinds this task can learn from: those that can answer with {@link #answer}. */
  public Set<TeacherKind> teachers() {
    return Arrays.stream(TeacherKind.values()).filter(k -> k.answers().contains(answer))
        .collect(Collectors.toUnmodifiableSet());
  }

  /** The student kind this task trains ({@link StudentKind#NONE}: none yet; any task may also be run without one). */
  public StudentKind student() {
    return student;
  }

  /** The kind of model its outputs train, as a teacher's terms name it (teacher.terms.students). */
  public StudentUse studentUse() {
    return studentUse;
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
