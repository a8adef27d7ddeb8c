package io.distillery.jobs.train;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.dataset.DataSet;
import scala.Tuple2;

/**
 * Mean loss of a model over an RDD of examples (single or minibatches), computed on the executors from the model's serialized bytes.
 * (DL4J's own {@code SparkDl4jMultiLayer.calculateScore} shares the driver's parameter array with its
 * workers in local mode and closes it, which breaks the next epoch; serialized bytes keep them apart.)
 */
public final class ValidationLoss {
  private ValidationLoss() {}

  public static double mean(JavaSparkContext jsc, byte[] model, JavaRDD<DataSet> examples, int batchSize) {
    Broadcast<byte[]> bytes = jsc.broadcast(model);
    try {
      Tuple2<Double, Long> total = examples.mapPartitions(new PartitionLoss(bytes, batchSize))
          .fold(new Tuple2<>(0.0, 0L), (a, b) -> new Tuple2<>(a._1() + b._1(), a._2() + b._2()));
      return total._2() == 0 ? Double.NaN : total._1() / total._2();
    } finally {
      bytes.destroy();
    }
  }

  record PartitionLoss(Broadcast<byte[]> model, int batchSize)
      implements FlatMapFunction<Iterator<DataSet>, Tuple2<Double, Long>> {

    @Override
    public Iterator<Tuple2<Double, Long>> call(Iterator<DataSet> examples) {
      if (!examples.hasNext()) {
        return List.<Tuple2<Double, Long>>of().iterator();
      }
      MultiLayerNetwork net;
      try {
        net = ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(model.value()), false);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      double sum = 0;
      long n = 0;
      List<DataSet> batch = new ArrayList<>();
      int inBatch = 0;
      while (examples.hasNext()) {
        DataSet next = examples.next();
        batch.add(next);
        inBatch += next.numExamples();
        if (inBatch >= batchSize || !examples.hasNext()) {
          DataSet merged = batch.size() == 1 ? batch.get(0) : DataSet.merge(batch);
          sum += net.score(merged, false) * merged.numExamples();
          n += merged.numExamples();
          batch.clear();
          inBatch = 0;
        }
      }
      return List.of(new Tuple2<>(sum, n)).iterator();
    }
  }
}
