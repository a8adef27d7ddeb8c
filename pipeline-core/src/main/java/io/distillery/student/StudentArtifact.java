package io.distillery.student;

import io.distillery.tokenizer.Tokenizer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;

/**
 * A student model as one file: DL4J's ModelSerializer zip plus {@value #PREFIX}* entries holding what turns a
 * text into the network's input (the embed student's vocabulary, the classify student's n-gram spec and labels, the language model's
 * input spec and tokenizer).
 * DL4J reads its own entries and ignores ours, so the file still restores with plain
 * {@code ModelSerializer.restoreMultiLayerNetwork}.
 */
public record StudentArtifact(MultiLayerNetwork network, Map<String, byte[]> entries) {
  public static final String PREFIX = "distillery/";
  public static final String VOCABULARY_ENTRY = PREFIX + "vocabulary.txt";
  /** An embed student's known words (one per line, UTF-8), tokenized when it loads; students before it have none. */
  public static final String WORDS_ENTRY = PREFIX + "words.txt";
  public static final String CLASSIFIER_ENTRY = PREFIX + "classifier.json";
  public static final String LANGUAGE_MODEL_ENTRY = PREFIX + "language-model.json";
  public static final String TOKENIZER_ENTRY = PREFIX + "tokenizer.bin";

  public StudentArtifact {
    entries = Map.copyOf(entries);
    entries.keySet().forEach(name -> {
      if (!name.startsWith(PREFIX)) {
        throw new IllegalArgumentException("student artifact entries live under " + PREFIX + ", not " + name);
      }
    });
  }

  /**
   * An embed student: the network, its vocabulary and the words (without whitespace) whose rows {@link StudentInputs}
   * works out when it loads rather than on first sight.
   */
  public static StudentArtifact of(MultiLayerNetwork network, Vocabulary vocabulary, List<String> knownWords) {
    StringBuilder words = new StringBuilder();
    for (String w : knownWords) {
      words.append(Tokenizer.requireWord(w)).append('\n');
    }
    return new StudentArtifact(network, Map.of(VOCABULARY_ENTRY, vocabulary.toBytes(),
        WORDS_ENTRY, words.toString().getBytes(StandardCharsets.UTF_8)));
  }

  /** A classify student: the network and its input spec and labels. */
  public static StudentArtifact of(MultiLayerNetwork network, ClassifierInputs inputs) {
    return new StudentArtifact(network, Map.of(CLASSIFIER_ENTRY, inputs.toJson()));
  }

  /** A language-model student: the network, its input spec and the tokenizer file it reads text with. */
  public static StudentArtifact of(MultiLayerNetwork network, LmInputs inputs, byte[] tokenizerFile) {
    return new StudentArtifact(network, Map.of(LANGUAGE_MODEL_ENTRY, inputs.toJson(), TOKENIZER_ENTRY,
        tokenizerFile.clone()));
  }

  public Vocabulary vocabulary() {
    return Vocabulary.fromBytes(entry(VOCABULARY_ENTRY));
  }

  /** The embed student's known words; none for a student saved before they shipped. */
  public List<String> knownWords() {
    byte[] bytes = entries.get(WORDS_ENTRY);
    if (bytes == null) {
      return List.of();
    }
    String text = new String(bytes, StandardCharsets.UTF_8);
    return text.isEmpty() ? List.of() : List.of(text.split("\n"));
  }

  public ClassifierInputs classifierInputs() {
    return ClassifierInputs.fromJson(entry(CLASSIFIER_ENTRY));
  }

  public LmInputs lmInputs() {
    return LmInputs.fromJson(entry(LANGUAGE_MODEL_ENTRY));
  }

  public byte[] tokenizerFile() {
    return entry(TOKENIZER_ENTRY).clone();
  }

  private byte[] entry(String name) {
    byte[] bytes = entries.get(name);
    if (bytes == null) {
      throw new IllegalArgumentException("Not a Distillery student of this kind: no " + name + " entry (it has "
          + entries.keySet() + ")");
    }
    return bytes;
  }

  public byte[] toBytes() {
    try {
      ByteArrayOutputStream dl4j = new ByteArrayOutputStream();
      ModelSerializer.writeModel(network, dl4j, false);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(dl4j.toByteArray()));
          ZipOutputStream zip = new ZipOutputStream(out)) {
        for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
          zip.putNextEntry(new ZipEntry(e.getName()));
          in.transferTo(zip);
          zip.closeEntry();
        }
        for (Map.Entry<String, byte[]> e : new TreeMap<>(entries).entrySet()) {
          zip.putNextEntry(new ZipEntry(e.getKey()));
          zip.write(e.getValue());
          zip.closeEntry();
        }
      }
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot serialize the student", e);
    }
  }

  public static StudentArtifact fromBytes(byte[] bytes) {
    try {
      Map<String, byte[]> entries = new TreeMap<>();
      try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(bytes))) {
        for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
          if (e.getName().startsWith(PREFIX)) {
            entries.put(e.getName(), in.readAllBytes());
          }
        }
      }
      if (entries.isEmpty()) {
        throw new IllegalArgumentException("Not a Distillery student model: no " + PREFIX + " entries");
      }
      MultiLayerNetwork net = ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(bytes), false);
      return new StudentArtifact(net, entries);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot restore the student model", e);
    }
  }
}
