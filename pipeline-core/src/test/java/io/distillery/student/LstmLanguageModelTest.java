package io.distillery.student;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.distillery.TestSettings;
import io.distillery.settings.Settings;
import io.distillery.settings.Settings.Sampling;
import io.distillery.teacher.Completion;
import io.distillery.teacher.Decoding;
import io.distillery.teacher.Llama2Teacher;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;

/**
 * The language-model student on the real teacher's completions: its training sequences, that it learns the teacher's
 * next-token distribution, that its plain-array form is the network, and that it round-trips and decodes.
 */
class LstmLanguageModelTest {
  private static final int K = 8;
  private static final List<String> PROMPTS = List.of("Once upon a time", "Tom had a red ball", "The sun was",
      "Lily went to the park", "One day, a little cat", "The dog was sad because");
  private static Llama2Teacher teacher;
  private static Settings settings;
  private static final List<int[]> promptIds = new ArrayList<>();
  private static final List<Completion> completions = new ArrayList<>();

  @BeforeAll
  static void generate() {
    settings = TestSettings.withOverrides(Map.of("distillery.task", "language-model",
        "distillery.teacher.kind", "llama2c",
        "distillery.teacher.model", "classpath:models/tinystories-260k/stories260K.bin",
        "distillery.teacher.tokenizer", "classpath:models/tinystories-260k/tok512.bin",
        "distillery.student.kind", "lstm-lm", "distillery.student.init", "random",
        "distillery.student.width", "16", "distillery.student.hidden", "32",
        "distillery.train.learning-rate", "0.02", "distillery.train.loss.temperature", "1.0"));
    teacher = Llama2Teacher.open(settings.teacher());
    for (String prompt : PROMPTS) {
      for (int seed = 1; seed <= 4; seed++) {
        promptIds.add(teacher.tokenizer().encode(prompt, true));
        completions.add(teacher.complete(prompt, new Sampling(0.8, 0.95, 0, 24, List.of(), seed), K));
      }
    }
  }

  private static LmInputs inputs(int maxTokens) {
    return new LmInputs(teacher.vocabSize(), maxTokens, K, teacher.tokenizerFingerprint());
  }

  private static DataSet example(LmInputs inputs, int i) {
    Completion c = completions.get(i);
    return inputs.example(promptIds.get(i), c.tokens(), c.topIds(), c.topLogprobs());
  }

  @Test
  void aSequenceIsThePromptThenTheCompletionWithTargetsOnTheCompletionOnly() {
    LmInputs inputs = inputs(32);
    Completion c = completions.get(0);
    int[] prompt = promptIds.get(0);
    DataSet d = example(inputs, 0);
    assertArrayEquals(new long[] {1, 32}, d.getFeatures().shape());
    assertArrayEquals(new long[] {1, 2 * K + 1, 32}, d.getLabels().shape());
    int length = prompt.length + c.tokens().length - 1;
    for (int t = 0; t < 32; t++) {
      int expected = t < prompt.length ? prompt[t] : t < length ? c.tokens()[t - prompt.length] : 0;
      assertEquals(expected, d.getFeatures().getInt(0, t), "input " + t);
      assertEquals(t < length ? 1 : 0, d.getFeaturesMaskArray().getInt(0, t), "input mask " + t);
      boolean target = t >= prompt.length - 1 && t < length;
      assertEquals(target ? 1 : 0, d.getLabelsMaskArray().getInt(0, t), "target mask " + t);
      int hard = d.getLabels().getInt(0, 2 * K, t);
      assertEquals(target ? c.tokens()[t + 1 - prompt.length] : -1, hard, "target " + t);
      if (target) {
        int p = t + 1 - prompt.length;
        assertEquals(c.topIds()[p][0], d.getLabels().getInt(0, 0, t));
        assertEquals(Math.exp(c.topLogprobs()[p][0]), d.getLabels().getDouble(0, K, t), 1e-6);
      }
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> example(inputs(4), 5));
    assertTrue(e.getMessage().contains("student.max-tokens"), e.getMessage());
  }

  @Test
  void theStudentLearnsTheTeachersNextTokensAndItsArraysAreItsNetwork() {
    LmInputs inputs = inputs(32);
    MultiLayerNetwork net = new MultiLayerNetwork(LstmLanguageModel.configuration(settings.student(),
        settings.train(), inputs));
    net.init();
    List<DataSet> examples = new ArrayList<>();
    for (int i = 0; i < completions.size(); i++) {
      examples.add(example(inputs, i));
    }
    DataSet all = DataSet.merge(examples);
    double before = net.score(all);
    double untrained = meanTeacherTokenLogprob(LmStudentModel.of(StudentArtifact.fromBytes(
        StudentArtifact.of(net, inputs, new byte[] {1}).toBytes())));
    for (int epoch = 0; epoch < 40; epoch++) {
      net.fit(all);
    }
    double after = net.score(all);
    assertTrue(after < 0.6 * before, "distillation loss " + before + " -> " + after);

    byte[] tokenizer = {7, 8, 9};
    LmStudentModel model = LmStudentModel.of(StudentArtifact.fromBytes(StudentArtifact.of(net, inputs, tokenizer)
        .toBytes()));
    assertEquals(inputs, model.inputs());
    assertArrayEquals(tokenizer, model.tokenizerFile());
    double trained = meanTeacherTokenLogprob(model);
    assertTrue(trained > untrained + 1, "mean log-probability of the teacher's tokens " + untrained + " -> " + trained);
    for (int i = 0; i < 3; i++) {
      float[][] arrays = model.logprobs(promptIds.get(i), completions.get(i).tokens());
      float[][] network = model.logprobsWithNetwork(promptIds.get(i), completions.get(i).tokens());
      assertEquals(completions.get(i).tokens().length, arrays.length);
      for (int p = 0; p < arrays.length; p++) {
        assertArrayEquals(network[p], arrays[p], 1e-4f, "sequence " + i + " position " + p);
      }
    }
    // Decoded with the teacher's loop: greedy is reproducible, and each token is the student's most probable.
    Sampling greedy = new Sampling(0, 1, 0, 12, List.of(), 0);
    Completion a = Decoding.complete(teacher.tokenizer(), inputs.maxTokens(), model.session()::next, PROMPTS.get(0),
        greedy, 3);
    Completion b = Decoding.complete(teacher.tokenizer(), inputs.maxTokens(), model.session()::next, PROMPTS.get(0),
        greedy, 3);
    assertArrayEquals(a.tokens(), b.tokens());
    assertTrue(a.tokens().length > 0);
    float[][] own = model.logprobs(teacher.tokenizer().encode(PROMPTS.get(0), true), a.tokens());
    for (int p = 0; p < a.tokens().length; p++) {
      assertEquals(a.topIds()[p][0], a.tokens()[p]);
      assertEquals(own[p][a.tokens()[p]], a.tokenLogprobs()[p], 1e-5);
    }
  }

  private static double meanTeacherTokenLogprob(LmStudentModel model) {
    double sum = 0;
    int n = 0;
    for (int i = 0; i < completions.size(); i++) {
      int[] tokens = completions.get(i).tokens();
      float[][] lp = model.logprobs(promptIds.get(i), tokens);
      for (int p = 0; p < lp.length; p++) {
        sum += lp[p][tokens[p]];
        n++;
      }
    }
    return sum / n;
  }
}
