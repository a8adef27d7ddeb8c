package io.distillery.bench;

import io.distillery.corpus.Split;
import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.jobs.pipeline.Pipeline;
import io.distillery.jobs.pipeline.TaskRegistry;
import io.distillery.jobs.spark.SparkSessions;
import io.distillery.jobs.stage.StageContext;
import io.distillery.run.EpochRecord;
import io.distillery.run.Stage;
import io.distillery.run.StageManifest;
import io.distillery.run.TrainDetails;
import io.distillery.settings.Settings;
import io.distillery.student.Backends;
import io.distillery.teacher.OnnxEmbeddingTeacher;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

/**
 * bench/gpu.sh, one JVM's half: the train stage of the default embed run and of the langid example on this JVM's
 * ND4J backend (the script runs it once on the -Pcuda classpath with {@code gpu}, once on the CPU one with
 * {@code cpu}), and the ONNX teacher on ONNX Runtime's CPU and, in the GPU JVM, CUDA execution providers over the
 * same texts, with how far the two answers are apart. Ingest and generate run on the CPU teacher in both JVMs (the
 * same rows, so the students learn from the same data); only train and evaluate are timed. Prints {@code RESULT}
 * lines that the script turns into ratios.
 *
 * <p>Usage: GpuBench OUT MODE(gpu|cpu) TEXTS [MAX_DOCUMENTS] (0 = each config's own corpus size)
 */
public final class GpuBench {
  /** Below this cosine between the CUDA and the CPU answer for a text, the GPU teacher is out of tolerance. */
  static final double TOLERANCE_COSINE = 0.999;

  private GpuBench() {}

  public static void main(String[] args) {
    Path out = Path.of(args[0]);
    String mode = args[1];
    int texts = Integer.parseInt(args[2]);
    int maxDocuments = args.length > 3 ? Integer.parseInt(args[3]) : 0;
    System.out.printf(Locale.ROOT, "RESULT backend mode=%s nd4j=%s%n", mode, Backends.current("bench").backend());
    List<String> sample = null;
    for (String task : List.of("embed", "langid")) {
      Map<String, String> o = new HashMap<>(Map.of("distillery.run.root", out.resolve(mode).resolve(task).toUri()
          .toString(), "distillery.run.id", "gpu-bench", "distillery.spark.master", "local[*]",
          "distillery.train.device.kind", mode, "distillery.train.hard-label-ablation", "false"));
      if (maxDocuments > 0) {
        o.put("distillery.corpus.max-documents", Integer.toString(maxDocuments));
      }
      Settings settings = Settings.load(task.equals("langid")
          ? Optional.of(Path.of(System.getProperty("test.repo.root", ".")).resolve("conf/examples/langid.conf"))
          : Optional.empty(), o);
      SparkSession spark = SparkSessions.create(settings);
      try {
        Pipeline.run(settings, spark, List.of(Stage.INGEST, Stage.GENERATE), false);
        StageContext ctx = StageContext.of(settings, spark);
        long rows = ctx.read(TaskRegistry.of(settings.task()).generation().output())
            .where(functions.col(Cols.SPLIT).equalTo(Split.TRAIN.label())).count();
        Map<Stage, StageManifest> done = Pipeline.run(settings, spark, List.of(Stage.TRAIN, Stage.EVALUATE), true);
        List<EpochRecord> epochs = done.get(Stage.TRAIN).details(TrainDetails.class).epochs();
        double seconds = epochs.stream().filter(e -> e.seconds() != null).mapToDouble(EpochRecord::seconds).sum();
        long trained = epochs.stream().filter(e -> e.seconds() != null).count();
        Map<String, Object> metrics = done.get(Stage.EVALUATE).details();
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT,
            "RESULT train task=%s mode=%s rows=%d epochs=%d samples_per_s=%.1f", task, mode, rows, trained,
            rows * trained / seconds));
        for (String m : task.equals("embed") ? List.of("mean_cosine", "neighbour_recall", "spearman_pairwise")
            : List.of("top1_agreement", "mean_kl", "ece")) {
          line.append(String.format(Locale.ROOT, " %s=%.4f", m, ((Number) metrics.get(m)).doubleValue()));
        }
        System.out.println(line);
        if (task.equals("embed")) {
          sample = ctx.read(DatasetKind.PROMPTS).orderBy(Cols.ROW_ID).limit(texts).select(Cols.TEXT)
              .as(Encoders.STRING()).collectAsList(); // the bench's input, a few hundred KB
        }
      } finally {
        spark.stop();
      }
    }
    teacher(mode, Settings.load(Optional.empty(), Map.of()).teacher(), sample);
  }

  /** The ONNX teacher on the CPU, and on CUDA in the GPU JVM: embeddings/s, alternating rounds, and parity. */
  private static void teacher(String mode, Settings.Teacher cpuSpec, List<String> texts) {
    Settings.Teacher gpuSpec = Settings.load(Optional.empty(), Map.of("distillery.teacher.device.kind", "gpu"))
        .teacher();
    try (OnnxEmbeddingTeacher cpu = OnnxEmbeddingTeacher.open(cpuSpec);
        OnnxEmbeddingTeacher gpu = mode.equals("gpu") ? OnnxEmbeddingTeacher.open(gpuSpec) : null) {
      List<String> warm = texts.subList(0, Math.min(100, texts.size()));
      warm.forEach(cpu::embed);
      if (gpu != null) {
        warm.forEach(gpu::embed);
      }
      long cpuNanos = 0;
      long gpuNanos = 0;
      for (int round = 0; round < 3; round++) {
        long t0 = System.nanoTime();
        texts.forEach(cpu::embed);
        long t1 = System.nanoTime();
        if (gpu != null) {
          texts.forEach(gpu::embed);
        }
        gpuNanos += System.nanoTime() - t1;
        cpuNanos += t1 - t0;
      }
      double cpuRate = 3.0 * texts.size() / (cpuNanos / 1e9);
      if (gpu == null) {
        System.out.printf(Locale.ROOT, "RESULT teacher mode=%s cpu_per_s=%.1f%n", mode, cpuRate);
        return;
      }
      double minCosine = 1;
      double maxAbs = 0;
      for (String t : texts) {
        float[] a = cpu.embed(t);
        float[] b = gpu.embed(t);
        double dot = 0;
        for (int i = 0; i < a.length; i++) {
          dot += a[i] * b[i];
          maxAbs = Math.max(maxAbs, Math.abs(a[i] - b[i]));
        }
        minCosine = Math.min(minCosine, dot);
      }
      System.out.printf(Locale.ROOT, "RESULT teacher mode=%s device=%s cpu_per_s=%.1f gpu_per_s=%.1f "
          + "min_cosine=%.6f max_abs_diff=%.2e within_tolerance=%s%n", mode, gpu.device(), cpuRate,
          3.0 * texts.size() / (gpuNanos / 1e9), minCosine, maxAbs, minCosine >= TOLERANCE_COSINE);
    }
  }
}
