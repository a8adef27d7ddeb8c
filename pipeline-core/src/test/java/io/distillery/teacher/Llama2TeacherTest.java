package io.distillery.teacher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.distillery.TestSettings;
import io.distillery.settings.Settings;
import io.distillery.settings.Settings.Sampling;
import io.distillery.teacher.lm.Llama2Model;
import io.distillery.util.Softmax;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The llama2.c teacher's completions: reproducible, with its own top-k log-probabilities at every position. */
class Llama2TeacherTest {
  private static Llama2Teacher teacher;

  @BeforeAll
  static void open() {
    Settings.Teacher spec = TestSettings.withOverrides(Map.of(
        "distillery.teacher.model", "classpath:models/tinystories-260k/stories260K.bin",
        "distillery.teacher.tokenizer", "classpath:models/tinystories-260k/tok512.bin")).teacher();
    teacher = Llama2Teacher.open(spec);
  }

  private static Sampling greedy(int maxTokens) {
    return new Sampling(0, 1, 0, maxTokens, List.of(), 0);
  }

  @Test
  void aGreedyCompletionIsTheMostProbableTokenEveryStepWithItsTopK() {
    Completion c = teacher.complete("Once upon a time", greedy(24), 5);
    assertEquals(24, c.tokens().length);
    assertEquals(Completion.Finish.LENGTH, c.finish());
    assertEquals(5, c.promptTokens(), "BOS and four prompt tokens");
    assertTrue(c.text().startsWith(", there was a little girl named Lily."), c.text());
    assertEquals(c.text(), teacher.tokenizer().decode(378, c.tokens()));
    for (int i = 0; i < c.tokens().length; i++) {
      assertEquals(5, c.topIds()[i].length);
      assertEquals(c.tokens()[i], c.topIds()[i][0], "greedy picks the most probable token at " + i);
      assertEquals(c.topLogprobs()[i][0], c.tokenLogprobs()[i], "the token's own log-probability at " + i);
      double mass = 0;
      for (int j = 0; j < 5; j++) {
        assertTrue(c.topLogprobs()[i][j] <= 0, "log-probabilities");
        assertTrue(j == 0 || c.topLogprobs()[i][j] <= c.topLogprobs()[i][j - 1], "most probable first");
        mass += Math.exp(c.topLogprobs()[i][j]);
      }
      assertTrue(mass <= 1 + 1e-5 && mass > 0.2, "top-5 mass " + mass);
    }
  }

  @Test
  void theWholeDistributionSumsToOne() {
    Llama2Model.Session s = teacher.model().session();
    float[] logits = null;
    for (int id : teacher.tokenizer().encode("The little dog", true)) {
      logits = s.next(id);
    }
    double sum = 0;
    for (float lp : Softmax.log(logits)) {
      sum += Math.exp(lp);
    }
    assertEquals(1.0, sum, 1e-5);
  }

  @Test
  void aSampledCompletionDependsOnItsSeedAndOnNothingElse() {
    Sampling warm = new Sampling(1.0, 0.95, 0, 30, List.of(), 7);
    Completion a = teacher.complete("Lily and Tom went to the park. They", warm, 3);
    Completion b = teacher.complete("Lily and Tom went to the park. They", warm, 3);
    assertArrayEquals(a.tokens(), b.tokens());
    assertEquals(a.text(), b.text());
    boolean differs = false;
    for (long seed = 8; seed < 12 && !differs; seed++) {
      differs = !a.text().equals(teacher.complete("Lily and Tom went to the park. They", warm.withSeed(seed), 3)
          .text());
    }
    assertTrue(differs, "another seed samples another story");
  }

  @Test
  void topKSamplingDrawsOnlyFromTheKMostProbableTokens() {
    String prompt = "Lily and Tom went to the park. They";
    for (long seed = 1; seed <= 3; seed++) {
      Completion one = teacher.complete(prompt, new Sampling(1.5, 1, 1, 20, List.of(), seed), 3);
      assertArrayEquals(teacher.complete(prompt, greedy(20), 3).tokens(), one.tokens(),
          "top-k = 1 is greedy at any temperature and seed");
      Completion three = teacher.complete(prompt, new Sampling(1.5, 1, 3, 20, List.of(), seed), 3);
      for (int p = 0; p < three.tokens().length; p++) {
        int token = three.tokens()[p];
        assertTrue(Arrays.stream(three.topIds()[p]).anyMatch(id -> id == token), "position " + p + " of seed " + seed);
      }
    }
  }

  @Test
  void aStopTextEndsTheCompletionBeforeIt() {
    Completion c = teacher.complete("Once upon a time", new Sampling(0, 1, 0, 60, List.of(" Lily"), 0), 2);
    assertEquals(Completion.Finish.STOP, c.finish());
    assertEquals(", there was a little girl named", c.text());
    assertFalse(c.text().contains("Lily"));
    assertNotEquals(0, c.tokens().length);
  }
}
