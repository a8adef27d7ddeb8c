package io.distillery.evaluation;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * What a metric of metrics.json means, for people: its name in words, a one-line meaning, and how to print its
 * value (unit and precision). Metrics a task names by pattern (a label, an ablation, a unit) are matched by prefix
 * and suffix.
 *
 * @param key the metric's key in metrics.json, or its pattern's fixed part
 * @param format how its values print
 */
public record MetricInfo(String key, String name, String meaning, Format format) {

  /** How a value prints: scaled, then formatted with its unit. */
  public enum Format {
    COSINE(1, "%.3f"),
    FRACTION(100, "%.1f %%"),
    POINTS(100, "%+.1f points"),
    RATIO(1, "%.2f"),
    TIMES(1, "%.1f×"),
    COUNT(1, "%,.0f"),
    RATE(1, "%,.1f/s"),
    BYTES(1e-6, "%.1f MB") {
      @Override
      String apply(double v) {
        return v >= 1e6 ? super.apply(v) : String.format(Locale.ROOT, "%,.0f bytes", v);
      }
    },
    MILLIS(1, "%,.1f ms"),
    SECONDS(1, "%,.2f s"),
    NUMBER(1, "%.4f");

    private final double scale;
    private final String pattern;

    Format(double scale, String pattern) {
      this.scale = scale;
      this.pattern = pattern;
    }

    String apply(double v) {
      return String.format(Locale.ROOT, pattern, v * scale);
    }
  }

  private static final List<MetricInfo> KNOWN = List.of(
      new MetricInfo("mean_cosine", "Mean cosine to the teacher",
          "How close the student's embedding is to the teacher's, averaged over held-out sentences (1 = same).",
          Format.COSINE),
      new MetricInfo("median_cosine", "Median cosine to the teacher", "Half the held-out sentences are closer.",
          Format.COSINE),
      new MetricInfo("p05_cosine", "Cosine, worst 5 %", "95 % of held-out sentences are at least this close.",
          Format.COSINE),
      new MetricInfo("neighbour_recall", "Neighbour agreement",
          "Of the teacher's nearest held-out neighbours of a sentence, the share the student finds too.",
          Format.FRACTION),
      new MetricInfo("spearman_pairwise", "Similarity rank correlation",
          "Spearman correlation of the student's and the teacher's pairwise similarities (1 = same order).",
          Format.RATIO),
      new MetricInfo("top1_agreement", "Top-1 agreement with the teacher",
          "Share of held-out inputs (tokens, for a language model) where the student's first choice is the "
              + "teacher's.", Format.FRACTION),
      new MetricInfo("gold_accuracy", "Student accuracy on gold labels",
          "Share of held-out inputs with a known label that the student labels right.", Format.FRACTION),
      new MetricInfo("teacher_gold_accuracy", "Teacher accuracy on gold labels",
          "The same for the teacher: the ceiling the student learns towards.", Format.FRACTION),
      new MetricInfo("gold_rows", "Held-out rows with a gold label", "Inputs the accuracies are measured on.",
          Format.COUNT),
      new MetricInfo("ece", "Calibration error (ECE)",
          "How far the student's confidence is from how often it is right (0 = calibrated).", Format.RATIO),
      new MetricInfo("mean_kl", "KL divergence from the teacher",
          "How different the student's distributions are from the teacher's, in nats (0 = same).", Format.RATIO),
      new MetricInfo("soft_minus_hard_agreement", "Soft labels' gain",
          "Top-1 agreement of the soft-label student minus that of the same student trained on hard labels.",
          Format.POINTS),
      new MetricInfo("perplexity_ratio", "Perplexity ratio",
          "The student's perplexity on the teacher's completions over the teacher's own (1 = as sure as the "
              + "teacher).", Format.RATIO),
      new MetricInfo("student_perplexity", "Student perplexity", "On the teacher's held-out completions.",
          Format.RATIO),
      new MetricInfo("teacher_perplexity", "Teacher perplexity", "On its own held-out completions.", Format.RATIO),
      new MetricInfo("soft_minus_hard_perplexity", "Soft targets' gain in perplexity",
          "Perplexity of the student trained on the teacher's tokens minus that of the soft-target student "
              + "(positive: soft targets help).", Format.RATIO),
      new MetricInfo("held_out_rows", "Held-out rows", "Rows of the test split the metrics are measured on.",
          Format.COUNT),
      new MetricInfo("held_out_tokens", "Held-out tokens", "Teacher tokens the language-model metrics score.",
          Format.COUNT),
      new MetricInfo("pairwise_rows", "Rows compared pairwise", "Held-out rows used for neighbours and ranks.",
          Format.COUNT),
      new MetricInfo("throughput_rows", "Rows timed", "Held-out rows both models were timed on.", Format.COUNT),
      new MetricInfo("throughput_student_seconds", "Student time measured",
          "The student's time in all, over rounds taken in turn with the teacher (evaluate.throughput-window).",
          Format.SECONDS),
      new MetricInfo("student_speedup", "Student speed-up",
          "Student inputs per second over the teacher's, timed side by side; the student over the held-out texts "
              + "again and again for at least evaluate.throughput-window (its words cached, as in a long stream).",
          Format.TIMES),
      new MetricInfo("teacher_model_bytes", "Teacher size", "The teacher's model file.", Format.BYTES),
      new MetricInfo("student_model_bytes", "Student size", "The student's model file.", Format.BYTES),
      new MetricInfo("teacher_mean_latency_ms", "Teacher latency",
          "Mean time a remote teacher took to answer one request.", Format.MILLIS),
      new MetricInfo("teacher_requests_open", "Teacher requests open",
          "Requests generate kept open at once across its tasks.", Format.COUNT));
  private static final Map<String, MetricInfo> BY_KEY = KNOWN.stream()
      .collect(Collectors.toUnmodifiableMap(MetricInfo::key, Function.identity()));

  /** The metric named {@code key}: one of the known, one of a known pattern, or the key itself as a number. */
  public static MetricInfo of(String key) {
    return Optional.ofNullable(BY_KEY.get(key)).or(() -> patterned(key))
        .orElse(new MetricInfo(key, key.replace('_', ' '), "", Format.NUMBER));
  }

  private static Optional<MetricInfo> patterned(String key) {
    if (key.endsWith("_per_second") && (key.startsWith("teacher_") || key.startsWith("student_"))) {
      String who = key.startsWith("teacher_") ? "Teacher" : "Student";
      String unit = key.substring(key.indexOf('_') + 1, key.length() - "_per_second".length());
      return Optional.of(new MetricInfo(key, who + " throughput", capitalized(unit) + " per second on one executor core.",
          Format.RATE));
    }
    if (key.startsWith("agreement_by_label.")) {
      return Optional.of(new MetricInfo(key, "Agreement on " + key.substring(key.indexOf('.') + 1),
          "Top-1 agreement with the teacher where the teacher says this label.", Format.FRACTION));
    }
    if (key.startsWith("ablation.")) {
      String rest = key.substring("ablation.".length());
      int dot = rest.indexOf('.');
      if (dot > 0) {
        MetricInfo base = of(rest.substring(dot + 1));
        return Optional.of(new MetricInfo(key, base.name() + " (" + rest.substring(0, dot).replace('-', ' ')
            + " ablation)", "The same student trained another way, for comparison.", base.format()));
      }
    }
    return Optional.empty();
  }

  private static String capitalized(String s) {
    return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
  }

  public String print(double value) {
    return Double.isNaN(value) ? "n/a" : format.apply(value);
  }
}
