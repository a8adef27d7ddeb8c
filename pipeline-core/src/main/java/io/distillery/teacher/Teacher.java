package io.distillery.teacher;

import io.distillery.provenance.TeacherIdentity;

/** A model that answers as the teacher, in-process. One per JVM per spec ({@link Teachers}); thread-safe. */
public interface Teacher extends AutoCloseable {
  TeacherIdentity identity();

  /** Size of the model file it runs, for comparing a student's size with the teacher's. */
  long modelBytes();

  @Override
  void close();
}
