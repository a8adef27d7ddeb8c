package io.distillery.settings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.distillery.TestSettings;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PromptTemplateTest {

  @Test
  void slotsLiteralsAndEscapedBraces() {
    PromptTemplate t = new PromptTemplate("t1", "Write about {animal} in {place}: {{json}} {animal}!");
    assertEquals(Set.of("animal", "place"), t.slots());
    assertEquals(List.of(new PromptTemplate.Part("Write about ", null), new PromptTemplate.Part(null, "animal"),
        new PromptTemplate.Part(" in ", null), new PromptTemplate.Part(null, "place"),
        new PromptTemplate.Part(": {json} ", null), new PromptTemplate.Part(null, "animal"),
        new PromptTemplate.Part("!", null)), t.parts());
    assertNotEquals(t.hash(), new PromptTemplate("t1", "Write about {animal}.").hash(), "the text is hashed");
    assertTrue(t.reference().startsWith("template:t1@"));
  }

  @Test
  void aLoneBraceOrAMissingIdIsASettingsError() {
    IllegalArgumentException lone = assertThrows(IllegalArgumentException.class,
        () -> new PromptTemplate("t", "Tell me {about it"));
    assertTrue(lone.getMessage().contains("lone '{'"), lone.getMessage());
    SettingsException noId = assertThrows(SettingsException.class, () -> TestSettings.withOverrides(Map.of(
        "distillery.corpus.source", "text", "distillery.corpus.path", "x.txt",
        "distillery.corpus.template.text", "A story about {text}.")));
    assertTrue(noId.getMessage().contains("distillery.corpus.template.id"), noId.getMessage());
    SettingsException europarl = assertThrows(SettingsException.class, () -> TestSettings.withOverrides(Map.of(
        "distillery.corpus.template.id", "t", "distillery.corpus.template.text", "A story about {text}.")));
    assertTrue(europarl.getMessage().contains("seed table"), europarl.getMessage());
  }
}
