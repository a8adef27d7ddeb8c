package io.distillery.jobs.task;

import io.distillery.teacher.TeacherAnswer;
import java.io.Serializable;
import java.util.Map;

/**
 * Executor side: the task's own columns of an answer, by name (e.g. the embedding); generate adds the prompt's
 * columns and the provenance. The same for in-process and remote teachers, which answer with the same typed value.
 */
@FunctionalInterface
public interface AnswerColumns extends Serializable {
  Map<String, Object> of(TeacherAnswer answer);
}
