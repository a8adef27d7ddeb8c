package io.distillery.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.modality.nlp.DefaultVocabulary;
import ai.djl.modality.nlp.Vocabulary;
import ai.djl.modality.nlp.bert.BertFullTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.distillery.util.JvmShared;
import io.distillery.util.Resources;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The teacher's own tokenizer (a HuggingFace tokenizer.json, run by DJL's Rust bindings). The student reads the same
 * token ids, so its vocabulary is the teacher's: both sides use this package, which depends on neither.
 */
public final class Tokenizer implements AutoCloseable {
  private static final int WORD_CACHE_LIMIT = 500_000;

  private final HuggingFaceTokenizer tokenizer;
  private final ConcurrentHashMap<String, long[]> wordCache = new ConcurrentHashMap<>();
  private final BertFullTokenizer wordPiece;
  private final Vocabulary wordPieceVocabulary;
  private final String location;

  private Tokenizer(HuggingFaceTokenizer tokenizer, Vocabulary wordPieceVocabulary,
      String location) {
    this.tokenizer = tokenizer;
    this.wordPieceVocabulary = wordPieceVocabulary;
    this.wordPiece = wordPieceVocabulary == null ? null : new BertFullTokenizer(wordPieceVocabulary, true);
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
      JsonNode root = new ObjectMapper().readTree(json);
      JsonNode vocab = root.path("model").path("vocab");
      if (!vocab.isObject() || vocab.isEmpty()) {
        throw new IllegalArgumentException(location + " is not a HuggingFace tokenizer.json with a model.vocab");
      }
      int maxId = 0;
      for (JsonNode id : (Iterable<JsonNode>) vocab::elements) {
        maxId = Math.max(maxId, id.asInt());
      }
      HuggingFaceTokenizer hf = HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json),
          Map.of("maxLength", Integer.toString(maxTokens), "truncation", "true", "padding", "false"));
      return new Tokenizer(hf, lowercaseWordPiece(root, maxId + 1), location);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot load tokenizer " + location, e);
    }
  }

  /**
   * The special tokens the model reads around every text (e.g. [CLS] and [SEP]), in order: the encoding of the empty
   * text.
   */
  public long[] specialIds() {
    return tokenizer.encode("").getIds();
  }

  /** Encoding with the model's special tokens ([CLS] ... [SEP]), for the teacher. */
  public Encoding encodeForModel(String text) {
    return tokenizer.encode(text);
  }

  /**
   * Token ids without special tokens, at most {@code maxTokens}, for the student. For an uncased BERT
   * WordPiece tokenizer (all-MiniLM-L6-v2's) this runs DJL's pure-Java WordPiece over the same vocabulary,
   * several times faster than a round trip through the native tokenizer (agreement is checked in the tests);
   * any other tokenizer goes through the native one.
   */
  public long[] tokenIds(String text, int maxTokens) {
    if (wordPiece == null) {
      long[] ids = tokenizer.encode(text, false, false).getIds();
      return ids.length <= maxTokens ? ids : Arrays.copyOf(ids, maxTokens);
    }
    // BERT splits on whitespace before anything else, so each word tokenizes on its own: cache per word.
    long[] ids = new long[Math.min(maxTokens, 16)];
    int n = 0;
    char[] chars = text.toCharArray();
    int length = chars.length;
    for (int start = wordStart(chars, 0, length); start < length && n < maxTokens; ) {
      int end = wordEnd(chars, start, length);
      long[] word = cachedWordIds(text.substring(start, end));
      if (n + word.length > ids.length) {
        ids = Arrays.copyOf(ids, Math.max(ids.length * 2, n + word.length));
      }
      System.arraycopy(word, 0, ids, n, word.length);
      n += word.length;
      start = wordStart(chars, end, length);
    }
    return Arrays.copyOf(ids, Math.min(n, maxTokens));
  }

  /**
   * Whether a text's tokens are its whitespace-separated words' tokens in order ({@link #wordStart}, {@link #wordEnd},
   * {@link #wordIds}), so that a caller may cache per word: true for an uncased BERT WordPiece.
   */
  public boolean tokenizesWordByWord() {
    return wordPiece != null;
  }

  /**
   * Where the word at or after {@code from} starts in {@code chars[0, length)} ({@code length} if none): BERT's
   * whitespace split.
   */
  public static int wordStart(char[] chars, int from, int length) {
    int i = from;
    while (i < length && Character.isWhitespace(chars[i])) {
      i++;
    }
    return i;
  }

  /**
   * {@code word}, checked to be one word of {@link #wordStart}/{@link #wordEnd}'s split (non-empty, no whitespace),
   * the form a caller caching per word stores words in.
   */
  public static String requireWord(String word) {
    if (word.isEmpty() || word.chars().anyMatch(Character::isWhitespace)) {
      throw new IllegalArgumentException("A known word is a non-empty run of non-whitespace, not '" + word + "'");
    }
    return word;
  }

  /** Where the word starting at {@code start} ends (exclusive). */
  public static int wordEnd(char[] chars, int start, int length) {
    int i = start;
    while (i < length && !Character.isWhitespace(chars[i])) {
      i++;
    }
    return i;
  }

  /** Token ids of one word, without whitespace ({@link #tokenizesWordByWord} only), not cached. */
  public long[] wordIds(String word) {
    if (wordPiece == null) {
      throw new IllegalStateException(location + " does not tokenize word by word");
    }
    List<String> tokens = wordPiece.tokenize(word);
    long[] ids = new long[tokens.size()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = wordPieceVocabulary.getIndex(tokens.get(i));
    }
    return ids;
  }

  private long[] cachedWordIds(String word) {
    long[] cached = wordCache.get(word);
    if (cached == null) {
      cached = wordIds(word);
      if (wordCache.size() >= WORD_CACHE_LIMIT) {
        wordCache.clear(); // a crude bound; natural text reuses a small set of words
      }
      wordCache.put(word, cached);
    }
    return cached;
  }

  /** Token ids as the native tokenizer gives them, without special tokens (the reference for {@link #tokenIds}). */
  public long[] nativeTokenIds(String text, int maxTokens) {
    long[] ids = tokenizer.encode(text, false, false).getIds();
    return ids.length <= maxTokens ? ids : Arrays.copyOf(ids, maxTokens);
  }

  /** The vocabulary in id order if the tokenizer is an uncased BERT WordPiece, else null. */
  private static Vocabulary lowercaseWordPiece(JsonNode root, int size) {
    boolean wordPiece = "WordPiece".equals(root.path("model").path("type").asText());
    JsonNode normalizer = root.path("normalizer");
    boolean lowercaseBert = "BertNormalizer".equals(normalizer.path("type").asText())
        && normalizer.path("lowercase").asBoolean(false);
    if (!wordPiece || !lowercaseBert || !"[UNK]".equals(root.path("model").path("unk_token").asText())) {
      return null;
    }
    String[] byId = new String[size];
    root.path("model").path("vocab").fields().forEachRemaining(e -> byId[e.getValue().asInt()] = e.getKey());
    for (int i = 0; i < size; i++) {
      if (byId[i] == null) {
        return null; // ids with gaps: leave it to the native tokenizer
      }
    }
    return new DefaultVocabulary(Arrays.asList(byId));
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
