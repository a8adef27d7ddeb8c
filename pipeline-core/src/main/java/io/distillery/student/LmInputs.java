package io.distillery.student;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * What turns a teacher's completion into a language-model student's training sequence: the prompt's tokens (its
 * beginning-of-sequence token first) then the completion's, all in the teacher's vocabulary, cut to
 * {@code maxTokens} inputs. The student reads token t and predicts token t + 1; only the completion's tokens are
 * targets (the prompt is context), each with the teacher's top k at that position ({@link TopKDistillationLoss}'s
 * compact labels). Saved inside the student's artifact with the tokenizer it was trained with.
 *
 * @param vocabSize the teacher's (and so the student's) vocabulary
 * @param maxTokens inputs per sequence: prompt and completion together
 * @param topK the teacher's alternatives per position
 * @param tokenizerFingerprint the teacher's tokenizer, which the student must read text with
 */
public record LmInputs(int vocabSize, int maxTokens, int topK, String tokenizerFingerprint) implements Serializable {
  private static final ObjectMapper JSON = new ObjectMapper();

  public LmInputs {
    if (vocabSize < 2 || maxTokens < 2 || topK < 1) {
      throw new IllegalArgumentException("vocabulary " + vocabSize + ", max tokens " + maxTokens + ", top-k " + topK);
    }
  }

  /**
   * A one-sequence training DataSet: features [1, maxTokens] (token ids as floats) and their mask, compact labels
   * [1, 2k + 1, maxTokens] and their mask (1 where the target is a completion token).
   *
   * @param promptIds the prompt's tokens, beginning-of-sequence first
   * @param topIds per completion position, the teacher's k most probable tokens (fewer are padded)
   * @param topLogprobs their log-probabilities
   */
  public DataSet example(int[] promptIds, int[] completion, int[][] topIds, float[][] topLogprobs) {
    if (promptIds.length > maxTokens) {
      throw new IllegalArgumentException("A prompt of " + promptIds.length + " tokens leaves the student no "
          + "completion token to learn within its " + maxTokens + " (student.max-tokens): raise it, or shorten the "
          + "prompts");
    }
    if (topIds.length != completion.length || topLogprobs.length != completion.length) {
      throw new IllegalArgumentException(completion.length + " completion tokens but " + topIds.length
          + " top-k positions");
    }
    int length = Math.min(promptIds.length + completion.length - 1, maxTokens);
    float[][] features = new float[1][maxTokens];
    float[][] featureMask = new float[1][maxTokens];
    float[][][] labels = new float[1][2 * topK + 1][maxTokens];
    float[][] labelMask = new float[1][maxTokens];
    for (int t = 0; t < maxTokens; t++) {
      int c = t + 1 - promptIds.length; // the completion token predicted at t, if any
      if (t < length) {
        features[0][t] = t < promptIds.length ? promptIds[t] : completion[t - promptIds.length];
        featureMask[0][t] = 1;
      }
      float[] label = t < length && c >= 0 ? label(topIds[c], topLogprobs[c], completion[c])
          : TopKDistillationLoss.padding(topK);
      labelMask[0][t] = t < length && c >= 0 ? 1 : 0;
      for (int i = 0; i < label.length; i++) {
        labels[0][i][t] = label[i];
      }
    }
    INDArray f = Nd4j.createFromArray(features);
    return new DataSet(f, Nd4j.createFromArray(labels), Nd4j.createFromArray(featureMask),
        Nd4j.createFromArray(labelMask));
  }

  private float[] label(int[] ids, float[] logprobs, int token) {
    if (ids.length > topK) {
      throw new IllegalArgumentException(ids.length + " alternatives at a position, the student reads " + topK);
    }
    int[] padded = new int[topK];
    float[] probabilities = new float[topK];
    for (int i = 0; i < topK; i++) {
      // Fewer than k alternatives: repeat the last with probability 0 (a distinct id that adds no mass).
      padded[i] = i < ids.length ? ids[i] : -1;
      probabilities[i] = i < ids.length ? (float) Math.exp(logprobs[i]) : 0;
    }
    if (ids.length < topK) {
      fillUnused(padded, ids.length);
    }
    return TopKDistillationLoss.label(padded, probabilities, token);
  }

  /** Gives the padding slots from {@code from} on ids no real slot has, so the k ids stay distinct. */
  private void fillUnused(int[] ids, int from) {
    int next = 0;
    for (int i = from; i < ids.length; i++) {
      while (contains(ids, i, next)) {
        next++;
      }
      ids[i] = next++;
    }
  }

  private static boolean contains(int[] ids, int end, int id) {
    for (int i = 0; i < end; i++) {
      if (ids[i] == id) {
        return true;
      }
    }
    return false;
  }

  public byte[] toJson() {
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(this);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static LmInputs fromJson(byte[] json) {
    try {
      return JSON.readValue(json, LmInputs.class);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read the language model's input spec", e);
    }
  }
}
