package io.distillery.teacher;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.distillery.util.JvmShared;
import io.distillery.util.Resources;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Map;

/**
 * The teacher's own tokenizer (a HuggingFace tokenizer.json, run by DJL's Rust bindings). The student
 * reads the same token ids, so its vocabulary is the teacher's.
 */
public final class Tokenizer implements AutoCloseable {
  private final HuggingFaceTokenizer tokenizer;
  private final int vocabularySize;
  private final String location;

  private Tokenizer(HuggingFaceTokenizer tokenizer, int vocabularySize, String location) {
    this.tokenizer = tokenizer;
    this.vocabularySize = vocabularySize;
    this.location = location;
  }

  /** The JVM's shared tokenizer for this location and truncation length. */
  public static Tokenizer shared(String location, int maxTokens) {
    record Key(String location, int maxTokens) {}
    return JvmShared.get(new Key(location, maxTokens), () -> open(location, maxTokens));
  }

  /** Opens the tokenizer at {@code location}, truncating encodings to {@code maxTokens} (special tokens included). */
  public static Tokenizer open(String location, int maxTokens) {
    byte[] json = Resources.readAll(location);
    try {
      JsonNode vocab = new ObjectMapper().readTree(json).path("model").path("vocab");
      if (!vocab.isObject() || vocab.isEmpty()) {
        throw new IllegalArgumentException(location + " is not a HuggingFace tokenizer.json with a model.vocab");
      }
      int maxId = 0;
      for (JsonNode id : (Iterable<JsonNode>) vocab::elements) {
        maxId = Math.max(maxId, id.asInt());
      }
      HuggingFaceTokenizer hf = HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json),
          Map.of("maxLength", Integer.toString(maxTokens), "truncation", "true", "padding", "false"));
      return new Tokenizer(hf, maxId + 1, location);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot load tokenizer " + location, e);
    }
  }

  /** Encoding with the model's special tokens ([CLS] ... [SEP]), for the teacher. */
  public Encoding encodeForModel(String text) {
    return tokenizer.encode(text);
  }

  /** Token ids without special tokens, at most {@code maxTokens}, for the student. */
  public long[] tokenIds(String text, int maxTokens) {
    long[] ids = tokenizer.encode(text, false, false).getIds();
    return ids.length <= maxTokens ? ids : Arrays.copyOf(ids, maxTokens);
  }

  public int vocabularySize() {
    return vocabularySize;
  }

  @Override
  public void close() {
    tokenizer.close();
  }

  @Override
  public String toString() {
    return "Tokenizer[" + location + "]";
  }
}
