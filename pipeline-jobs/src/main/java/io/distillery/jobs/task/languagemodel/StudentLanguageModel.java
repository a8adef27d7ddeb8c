package io.distillery.jobs.task.languagemodel;

import io.distillery.provenance.TeacherIdentity;
import io.distillery.settings.Settings;
import io.distillery.student.LmStudentModel;
import io.distillery.student.StudentArtifact;
import io.distillery.teacher.TokenByTokenModel;
import io.distillery.teacher.lm.Llama2Tokenizer;
import io.distillery.util.Hashing;
import java.util.function.IntFunction;

/**
 * A trained language-model student where a language model is expected: in {@code serve-teacher --student}, which then
 * serves the student on the same endpoints as its teacher. It decodes with the teacher's own loop
 * ({@link TokenByTokenModel}) and reads text with the tokenizer in its artifact; its terms are the teacher's it learnt from.
 */
final class StudentLanguageModel extends TokenByTokenModel {
  private final LmStudentModel model;
  private final Llama2Tokenizer tokenizer;
  private final TeacherIdentity identity;
  private final long bytes;

  private StudentLanguageModel(LmStudentModel model, TeacherIdentity identity, long bytes) {
    this.model = model;
    this.tokenizer = LmEvaluation.tokenizer(model);
    this.identity = identity;
    this.bytes = bytes;
  }

  /**
   * The student in {@code artifact} (a student.zip's bytes), named {@code name}, under the terms of the teacher the
   * settings name (the ones the student was trained under).
   */
  static StudentLanguageModel of(byte[] artifact, String name, Settings settings) {
    Settings.Terms terms = settings.teacher().terms();
    String sha = Hashing.sha256Hex(artifact);
    return new StudentLanguageModel(LmStudentModel.of(StudentArtifact.fromBytes(artifact)),
        TeacherIdentity.of(name, "student of " + settings.teacher().name(), "student.zip", sha, terms),
        artifact.length);
  }

  @Override
  public TeacherIdentity identity() {
    return identity;
  }

  @Override
  public long modelBytes() {
    return bytes;
  }

  @Override
  public int vocabSize() {
    return model.inputs().vocabSize();
  }

  @Override
  public String tokenizerFingerprint() {
    return model.inputs().tokenizerFingerprint();
  }

  @Override
  protected Llama2Tokenizer tokenizer() {
    return tokenizer;
  }

  @Override
  protected int context() {
    return model.inputs().maxTokens();
  }

  @Override
  protected IntFunction<float[]> session() {
    return model.session()::next;
  }

  @Override
  public void close() {
    // Heap arrays only.
  }
}
