package io.distillery.jobs.task.languagemodel;

import io.distillery.settings.Settings;
import io.distillery.student.LmInputs;
import io.distillery.teacher.lm.Llama2Tokenizer;
import io.distillery.util.JvmShared;
import io.distillery.util.Resources;
import java.io.Serializable;
import java.util.Arrays;

/**
 * What the language-model student's executor functions capture: its input spec and the teacher's tokenizer file
 * (small: a vocabulary), which reads the prompts and goes into the student's artifact.
 */
record LmTraining(LmInputs inputs, byte[] tokenizerFile) implements Serializable {

  /** The JVM's tokenizer for a fingerprint. */
  private record TokenizerKey(String fingerprint) {}

  /**
   * The teacher's tokenizer as configured now, checked against the one generate recorded: the student learns the
   * teacher's token ids, so a different vocabulary would teach it nonsense.
   */
  static LmTraining of(Settings.Teacher teacher, int vocabSize, String generatedWith, int maxTokens, int topK) {
    byte[] file = Resources.readAll(teacher.tokenizer());
    Llama2Tokenizer tokenizer = Llama2Tokenizer.read(file, vocabSize);
    if (!tokenizer.fingerprint().equals(generatedWith)) {
      throw new IllegalStateException("The teacher's completions were tokenized with a vocabulary of fingerprint "
          + generatedWith + ", but " + Settings.Teacher.TOKENIZER.is(teacher.tokenizer()) + " has fingerprint "
          + tokenizer.fingerprint() + ". The student learns the teacher's token ids: point teacher.tokenizer at the "
          + "tokenizer generate used, or run generate again with this one.");
    }
    return new LmTraining(new LmInputs(vocabSize, maxTokens, topK, generatedWith), file);
  }

  Llama2Tokenizer tokenizer() {
    return tokenizer(inputs, tokenizerFile);
  }

  /** The JVM's tokenizer of a student's inputs, parsed from its file once per vocabulary. */
  static Llama2Tokenizer tokenizer(LmInputs inputs, byte[] file) {
    return JvmShared.get(new TokenizerKey(inputs.tokenizerFingerprint()),
        () -> Llama2Tokenizer.read(file, inputs.vocabSize()));
  }

  @Override
  public byte[] tokenizerFile() {
    return tokenizerFile.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LmTraining other && other.inputs.equals(inputs)
        && Arrays.equals(other.tokenizerFile, tokenizerFile);
  }

  @Override
  public int hashCode() {
    return inputs.hashCode() * 31 + Arrays.hashCode(tokenizerFile);
  }

  @Override
  public String toString() {
    return "LmTraining[" + inputs + ", tokenizer of " + tokenizerFile.length + " bytes]";
  }
}
