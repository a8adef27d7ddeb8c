package io.distillery.teacher.lm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.LlamaOutput;
import de.kherud.llama.ModelParameters;
import io.distillery.util.Resources;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java port of llama2.c against an independent implementation of the same checkpoint: llama.cpp (through
 * java-llama.cpp) on its GGUF conversion. Greedy continuations agree token for token, and so does tokenization.
 */
class Llama2ModelTest {
  static final String MODEL = "classpath:models/tinystories-260k/stories260K.bin";
  static final String TOKENIZER = "classpath:models/tinystories-260k/tok512.bin";
  private static final List<String> PROMPTS = List.of("Once upon a time", "Lily and Tom went to the park. They",
      "The little dog", "One day, a girl named Mia found a shiny stone in the garden.");
  private static final int CONTINUATION = 40;

  @TempDir
  static Path natives;

  private static Llama2Model model;
  private static Llama2Tokenizer tokenizer;

  @BeforeAll
  static void load() {
    model = Llama2Model.read(Resources.readAll(MODEL));
    tokenizer = Llama2Tokenizer.read(Resources.readAll(TOKENIZER), model.config().vocabSize());
  }

  @Test
  void theCheckpointIsTinyStories260k() {
    assertEquals(new Llama2Model.Config(64, 172, 5, 8, 4, 512, 512, true), model.config());
  }

  @Test
  void greedyContinuationsAndTokensAgreeWithLlamaCppOnTheGguf() throws Exception {
    // The native library from the jar into a folder of this test's own: java-llama.cpp would otherwise unpack it
    // into java.io.tmpdir and delete other files there whose names start with "llama".
    try (InputStream so = getClass().getResourceAsStream("/de/kherud/llama/Linux/x86_64/libjllama.so")) {
      Files.copy(so, natives.resolve("libjllama.so"));
    }
    System.setProperty("de.kherud.llama.lib.path", natives.toString());
    Path gguf = natives.resolve("stories260K.gguf");
    try (InputStream in = getClass().getResourceAsStream("/models/tinystories-260k/stories260K.gguf")) {
      Files.copy(in, gguf);
    }
    LlamaModel.setLogger(null, (level, message) -> { });
    for (String prompt : PROMPTS) {
      // A model per prompt: one server reused across prompts sometimes continues from the previous prompt's cached
      // context instead of this one's (seen in the full suite, never alone).
      try (LlamaModel reference = new LlamaModel(new ModelParameters().setModel(gguf.toString()).setThreads(1)
          .setCtxSize(512))) {
        int[] ours = tokenizer.encode(prompt, false);
        assertArrayEquals(reference.encode(prompt), ours, prompt);
        List<String> theirs = new ArrayList<>();
        for (LlamaOutput o : reference.generate(new InferenceParameters(prompt).setTemperature(0f)
            .setNPredict(CONTINUATION).setRepeatPenalty(1.0f))) {
          theirs.add(o.text);
        }
        if (!theirs.isEmpty() && theirs.get(theirs.size() - 1).isEmpty()) {
          theirs.remove(theirs.size() - 1); // the stream's closing output, which carries no token
        }
        assertTrue(theirs.size() >= CONTINUATION - 1, "llama.cpp stopped early on " + prompt + ": " + theirs);
        assertEquals(theirs, greedy(prompt, theirs.size()), prompt);
      }
    }
  }

  /** The pieces of this model's greedy continuation of {@code prompt}. */
  private static List<String> greedy(String prompt, int tokens) {
    Llama2Model.Session s = model.session();
    int[] ids = tokenizer.encode(prompt, true);
    float[] logits = null;
    for (int id : ids) {
      logits = s.next(id);
    }
    List<String> pieces = new ArrayList<>();
    int previous = ids[ids.length - 1];
    for (int i = 0; i < tokens; i++) {
      int best = 0;
      for (int j = 1; j < logits.length; j++) {
        best = logits[j] > logits[best] ? j : best;
      }
      pieces.add(new String(tokenizer.bytes(previous, best), StandardCharsets.UTF_8));
      previous = best;
      logits = s.next(best);
    }
    return pieces;
  }

  @Test
  void theSameInputGivesTheSameLogitsInEverySession() {
    int[] ids = tokenizer.encode("The cat sat on the mat.", true);
    float[] first = null;
    float[] second = null;
    for (Llama2Model.Session s : List.of(model.session(), model.session())) {
      float[] logits = null;
      for (int id : ids) {
        logits = s.next(id);
      }
      if (first == null) {
        first = logits.clone();
      } else {
        second = logits.clone();
      }
    }
    assertArrayEquals(first, second);
    assertTrue(Arrays.stream(boxed(first)).anyMatch(v -> v != 0));
  }

  @Test
  void textSurvivesEncodingAndDecodingAndUnknownCharactersFallBackToBytes() {
    for (String text : List.of("Tom had a red ball.", "She said: \"Wow!\"", "café ☕")) {
      int[] ids = tokenizer.encode(text, true);
      assertEquals(text, tokenizer.decode(Llama2Tokenizer.BOS, Arrays.copyOfRange(ids, 1, ids.length)));
    }
    int[] coffee = tokenizer.encode("☕", false);
    assertTrue(Arrays.stream(coffee).anyMatch(id -> tokenizer.piece(id).startsWith("<0x")),
        "a character outside the vocabulary is its UTF-8 bytes: " + Arrays.toString(coffee));
  }

  @Test
  void aTokenizerFileReadWholeIsTheModelsVocabularyAndOtherFilesAreRefused() {
    Llama2Tokenizer whole = Llama2Tokenizer.read(Resources.readAll(TOKENIZER));
    assertEquals(model.config().vocabSize(), whole.vocabSize());
    assertEquals(tokenizer.fingerprint(), whole.fingerprint());
    assertThrows(IllegalArgumentException.class,
        () -> Llama2Tokenizer.read(Resources.readAll("classpath:all-minilm-l6-v2-q-tokenizer.json")));
    assertThrows(IllegalArgumentException.class, () -> Llama2Tokenizer.read(Arrays.copyOf(
        Resources.readAll(TOKENIZER), 1000)), "a file cut short");
  }

  private static Float[] boxed(float[] v) {
    Float[] out = new Float[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = v[i];
    }
    return out;
  }
}
