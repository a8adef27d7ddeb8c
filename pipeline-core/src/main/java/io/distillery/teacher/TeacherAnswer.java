package io.distillery.teacher;

/** What a teacher answered for one input, typed by kind; the task decides which dataset columns it fills. */
public sealed interface TeacherAnswer {
  /** An embedding, L2-normalised. */
  record Embedding(float[] vector) implements TeacherAnswer {}

  /** A label distribution's most probable labels. */
  record Labels(LabelTeacher.TopK top) implements TeacherAnswer {}
}
