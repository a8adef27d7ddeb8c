package io.distillery.teacher;

import io.distillery.settings.Settings;
import io.distillery.settings.TeacherKind;
import io.distillery.teacher.Llama2Teacher;

/** The JVM's in-process teacher for a spec, by kind: the one place that maps a teacher kind to its model. */
public final class Teachers {
  private Teachers() {}

  /**
   * Checks, before any request, that this build can run the spec's teacher where teacher.device says (the CUDA
   * execution provider for a GPU); the executors check their GPU when they open it.
   */
  public static void checkDevice(Settings.Teacher spec) {
    if (spec.kind() == TeacherKind.ONNX_EMBEDDING) {
      OnnxEmbeddingTeacher.checkDevice(spec);
    }
  }

  public static EmbeddingTeacher embedding(Settings.Teacher spec) {
    return contextual(spec);
  }

  /** An embedding teacher whose hidden states can be read (the ONNX transformer). */
  public static ContextualEmbeddingTeacher contextual(Settings.Teacher spec) {
    if (spec.kind() != TeacherKind.ONNX_EMBEDDING) {
      throw notInProcess(spec, "an embedding");
    }
    return OnnxEmbeddingTeacher.shared(spec);
  }

  /** A language model that completes prompts (a llama2.c checkpoint). */
  public static LanguageModelTeacher language(Settings.Teacher spec) {
    if (spec.kind() != TeacherKind.LLAMA2C) {
      throw notInProcess(spec, "a language-model");
    }
    return Llama2Teacher.shared(spec);
  }

  public static LabelTeacher labels(Settings.Teacher spec) {
    if (spec.kind() != TeacherKind.OPENNLP_LANGDETECT) {
      throw notInProcess(spec, "a label");
    }
    return OpenNlpLanguageTeacher.shared(spec);
  }

  private static IllegalArgumentException notInProcess(Settings.Teacher spec, String what) {
    return new IllegalArgumentException(Settings.Teacher.KIND.is(spec.kind()) + " is not " + what
        + " teacher run in-process");
  }
}
