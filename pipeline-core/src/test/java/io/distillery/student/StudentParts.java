package io.distillery.student;

import io.distillery.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a cached sentence's time goes in the embed student, one thread, each part timed side by side in one JVM: the
 * whole path as it runs (bfloat16 rows), the same with float rows, the earlier path ({@link EarlierStudentPath}), and
 * from rows worked out beforehand the row sum and the head in each precision. Every part runs in turn for a window,
 * {@code rounds} times (the first two warm up); the bench prints the result (bench/README.md).
 */
public final class StudentParts {
  private StudentParts() {}

  /** Microseconds per sentence by part, in the order measured. */
  public static Map<String, Double> measure(byte[] model, Tokenizer tokenizer, int maxTokens, List<String> texts,
      int rounds, long windowNanos) {
    StudentArtifact artifact = StudentArtifact.fromBytes(model);
    StudentInputs inputs = new StudentInputs(tokenizer, artifact.vocabulary(), maxTokens, artifact.knownWords());
    FoldedStudent floats = FoldedStudent.fold(artifact.network(), RowTable.Precision.FLOAT);
    FoldedStudent bf16 = FoldedStudent.fold(artifact.network(), RowTable.Precision.BF16);
    EarlierStudentPath earlier = new EarlierStudentPath(model, tokenizer, maxTokens);
    List<int[]> rows = new ArrayList<>();
    for (String t : texts) {
      rows.add(inputs.rows(t));
    }
    int width = floats.rows()[0].length;
    int dim = floats.dimension();
    int hidden = width - dim;
    // The head as a sentence meets it: half the units active (ReLU of a centred input), each with a weight.
    int[] units = new int[hidden / 2];
    float[] activations = new float[units.length];
    for (int i = 0; i < units.length; i++) {
      units[i] = 2 * i;
      activations[i] = 0.01f * (i + 1);
    }
    Map<String, RowTable[]> tables = Map.of(
        "float", new RowTable[] {RowTable.of(floats.rows(), RowTable.Precision.FLOAT),
            RowTable.of(floats.unitsOut(), RowTable.Precision.FLOAT)},
        "bf16", new RowTable[] {RowTable.of(floats.rows(), RowTable.Precision.BF16),
            RowTable.of(floats.unitsOut(), RowTable.Precision.BF16)});
    Map<String, Runnable> parts = new LinkedHashMap<>();
    parts.put("earlier path", () -> earlier.embed(texts));
    parts.put("whole path, float rows", () -> texts.forEach(t -> floats.embed(inputs.rows(t))));
    parts.put("whole path, bf16 rows", () -> texts.forEach(t -> bf16.embed(inputs.rows(t))));
    parts.put("rows of a text", () -> texts.forEach(inputs::rows));
    for (String precision : List.of("float", "bf16")) {
      RowTable[] t = tables.get(precision);
      parts.put("row sum, " + precision, () -> rows.forEach(r -> t[0].addRows(r, new float[width])));
      parts.put("head, " + precision, () -> rows.forEach(r -> t[1].addScaled(units, activations, units.length,
          new float[dim])));
    }
    Map<String, double[]> totals = new LinkedHashMap<>(); // nanos, sentences
    parts.keySet().forEach(k -> totals.put(k, new double[2]));
    for (int round = 0; round < rounds; round++) {
      for (Map.Entry<String, Runnable> part : parts.entrySet()) {
        long start = System.nanoTime();
        long sentences = 0;
        do {
          part.getValue().run();
          sentences += texts.size();
        } while (System.nanoTime() - start < windowNanos);
        if (round >= 2) {
          totals.get(part.getKey())[0] += System.nanoTime() - start;
          totals.get(part.getKey())[1] += sentences;
        }
      }
    }
    Map<String, Double> micros = new LinkedHashMap<>();
    totals.forEach((k, v) -> micros.put(k, v[0] / v[1] / 1e3));
    return micros;
  }
}
