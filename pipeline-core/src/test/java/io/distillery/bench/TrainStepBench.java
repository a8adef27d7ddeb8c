package io.distillery.bench;

import io.distillery.TestSettings;
import io.distillery.settings.Settings;
import io.distillery.student.EarlierLayoutStudent;
import io.distillery.student.StaticEmbeddingStudent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * bench/train-step.sh: one training step (fit of one minibatch) of the default embed student, side by side in one
 * JVM: DL4J's sequence embedding + average pooling with dense Adam (the layout before EmbeddingBagLayer), the bag
 * with dense Adam, and the bag with lazy table updates (the default). Same shapes as the default run: 10,264 table
 * rows, width 384, head 64, minibatch 64, up to 64 tokens; token ids drawn Zipf-like (s = 1) as words are, lengths
 * 8 to 48. Rounds alternate the three; the median round's ratios are printed.
 */
public final class TrainStepBench {
  private static final Logger LOG = LoggerFactory.getLogger(TrainStepBench.class);
  private static final int ROWS = 10_264;
  private static final int DIM = 384;
  private static final int LENGTH = 64;
  private static final int BATCH = 64;

  public static void main(String[] args) {
    int steps = args.length > 0 ? Integer.parseInt(args[0]) : 30;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    List<DataSet> batches = batches(steps, new Random(1));
    Map<String, MultiLayerNetwork> nets = new LinkedHashMap<>();
    Settings defaults = TestSettings.defaults();
    nets.put("sequence+pooling, dense Adam", EarlierLayoutStudent.network(ROWS, DIM, defaults.student().hidden(),
        LENGTH, defaults.train().seed(), defaults.train().learningRate()));
    nets.put("bag, dense Adam", student("dense"));
    nets.put("bag, lazy table updates", student("lazy"));
    nets.values().forEach(n -> batches.subList(0, 5).forEach(n::fit)); // warm-up
    List<double[]> perRound = new ArrayList<>();
    for (int round = 0; round < rounds; round++) {
      double[] ms = new double[nets.size()];
      int i = 0;
      for (MultiLayerNetwork net : nets.values()) {
        long start = System.nanoTime();
        batches.forEach(net::fit);
        ms[i++] = (System.nanoTime() - start) / 1e6 / steps;
      }
      perRound.add(ms);
    }
    perRound.sort(Comparator.comparingDouble(r -> r[2] / r[0]));
    double[] median = perRound.get(perRound.size() / 2);
    List<String> names = new ArrayList<>(nets.keySet());
    System.out.printf("training step of the default embed student, median of %d rounds of %d minibatches of %d:%n",
        rounds, steps, BATCH);
    for (int i = 0; i < names.size(); i++) {
      System.out.printf("  %-32s %7.1f ms/step%n", names.get(i), median[i]);
    }
    System.out.printf("RATIO bag, dense Adam / sequence+pooling     = %.2f (time)%n", median[1] / median[0]);
    System.out.printf("RATIO bag, lazy updates / sequence+pooling   = %.2f (time)%n", median[2] / median[0]);
    LOG.info("train-step bench done");
  }

  private static MultiLayerNetwork student(String tableUpdates) {
    Settings s = TestSettings.withOverrides(Map.of("distillery.train.table-updates", tableUpdates));
    MultiLayerNetwork net = new MultiLayerNetwork(StaticEmbeddingStudent.configuration(s.student(), s.train(), ROWS,
        DIM));
    net.init();
    return net;
  }

  private static List<DataSet> batches(int n, Random random) {
    double[] cumulative = new double[ROWS];
    double total = 0;
    for (int r = 0; r < ROWS; r++) {
      total += 1.0 / (r + 1);
      cumulative[r] = total;
    }
    List<DataSet> out = new ArrayList<>();
    for (int b = 0; b < n; b++) {
      float[][] ids = new float[BATCH][LENGTH];
      float[][] mask = new float[BATCH][LENGTH];
      for (int i = 0; i < BATCH; i++) {
        int length = 8 + random.nextInt(41);
        for (int t = 0; t < length; t++) {
          int row = Arrays.binarySearch(cumulative, random.nextDouble() * total);
          ids[i][t] = Math.min(ROWS - 1, row < 0 ? -row - 1 : row);
          mask[i][t] = 1;
        }
      }
      out.add(new DataSet(Nd4j.createFromArray(ids), Nd4j.rand(DataType.FLOAT, BATCH, DIM).subi(0.5),
          Nd4j.createFromArray(mask), null));
    }
    return out;
  }
}
