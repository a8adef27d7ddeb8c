package io.distillery.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.distillery.TestSettings;
import io.distillery.corpus.Europarl;
import io.distillery.settings.Settings;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class TokenizerTest {
  private final Settings.Teacher spec = TestSettings.defaults().teacher();
  private final Tokenizer tokenizer = Tokenizer.shared(spec.tokenizer(), spec.maxTokens());

  @Test
  void pureJavaWordPieceAgreesWithTheNativeTokenizerOnTheCorpus() {
    List<String> docs = new ArrayList<>();
    Europarl.read(0, 1, 400, (line, body) -> docs.add(body.length() > 600 ? body.substring(0, 600) : body));
    int same = 0;
    List<String> differing = new ArrayList<>();
    for (String d : docs) {
      long[] fast = tokenizer.tokenIds(d, 128);
      long[] reference = tokenizer.nativeTokenIds(d, 128);
      if (Arrays.equals(fast, reference)) {
        same++;
      } else if (differing.size() < 3) {
        differing.add(d.substring(0, Math.min(80, d.length())));
      }
    }
    // 21 languages, accents and all: the two must agree on nearly every document.
    assertTrue(same >= docs.size() * 0.97, same + " of " + docs.size() + " agree; e.g. " + differing);
  }

  @Test
  void englishSentencesTokenizeIdentically() {
    for (String s : List.of("The Commission's proposal (COM(2004) 279) wasn't adopted, was it?",
        "Mr President, I welcome the rapporteur's work on the 2007-2013 budget.")) {
      assertArrayEquals(tokenizer.nativeTokenIds(s, 64), tokenizer.tokenIds(s, 64), s);
    }
  }
}
