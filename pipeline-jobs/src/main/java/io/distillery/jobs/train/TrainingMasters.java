package io.distillery.jobs.train;

import io.distillery.jobs.spark.BatchingIterator;
import io.distillery.provenance.ComputeBackend;
import io.distillery.settings.Settings;
import io.distillery.student.Backends;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.resource.ResourceInformation;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.nd4j.linalg.dataset.DataSet;

/** DL4J's parameter-averaging training master, configured from the train settings. */
public final class TrainingMasters {
  /**
   * Storage level of training examples: DL4J persists the RDD it is given at this level, so callers use it too.
   * Deserialized: every averaging split reads the whole cached partition to pick its share, and every epoch reads
   * it again; serialized, each read deserialized every minibatch float by float.
   */
  public static final StorageLevel EXAMPLES = StorageLevel.MEMORY_AND_DISK();

  private TrainingMasters() {}

  /**
   * @param workers number of Spark partitions trained at once; the examples RDD should have that many
   * @return a master for RDDs of minibatches of {@code train.batchSize()} examples ({@link #minibatches})
   */
  public static ParameterAveragingTrainingMaster parameterAveraging(Settings.Train train, int workers) {
    return new ParameterAveragingTrainingMaster.Builder(workers, train.batchSize()) // one minibatch per element
        .batchSizePerWorker(train.batchSize())
        .averagingFrequency(train.averagingFrequency())
        .workerPrefetchNumBatches(0)
        .saveUpdater(true)
        .repartionData(Repartition.NumPartitionsWorkersDiffers)
        .rddTrainingApproach(RDDTrainingApproach.Direct)
        .storageLevel(EXAMPLES)
        .rngSeed(train.seed())
        .collectTrainingStats(false)
        .build();
  }

  /**
   * One-example DataSets merged into minibatches of {@code batchSize} within each partition, once, before
   * training. The training master then fits them as they are; given single examples it would deserialize and
   * merge every example again in every epoch.
   */
  public static JavaRDD<DataSet> minibatches(JavaRDD<DataSet> examples, int batchSize) {
    return examples.mapPartitions(new MergeMinibatches(batchSize));
  }

  /** Executor side: merges consecutive examples of a partition into minibatches (the last may be smaller). */
  record MergeMinibatches(int batchSize) implements FlatMapFunction<Iterator<DataSet>, DataSet> {
    @Override
    public Iterator<DataSet> call(Iterator<DataSet> examples) {
      return new BatchingIterator<>(examples, batchSize, batch -> List.of(DataSet.merge(batch)));
    }
  }

  /**
   * The ND4J backends of the driver and of the executors that run {@code workers} tasks, each checked against
   * {@code train.device} on the driver (a GPU run that finds none stops before training, naming the JVM).
   */
  public static List<ComputeBackend> backends(JavaSparkContext jsc, int workers, Settings.Device device) {
    Map<String, ComputeBackend> found = new LinkedHashMap<>();
    found.put("driver", Backends.check(device, "driver"));
    List<ComputeBackend> executors = jsc.parallelize(IntStream.range(0, workers).boxed().toList(), workers)
        .mapPartitions(new ExecutorBackend()).collect(); // one small record per task
    for (ComputeBackend b : executors) {
      found.putIfAbsent(b.where(), Backends.check(device, b));
    }
    return new ArrayList<>(found.values());
  }

  /** Executor side: the backend of the JVM this task runs in, and the GPUs Spark assigned to the task. */
  record ExecutorBackend() implements FlatMapFunction<Iterator<Integer>, ComputeBackend> {
    @Override
    public Iterator<ComputeBackend> call(Iterator<Integer> ignored) {
      SparkEnv env = SparkEnv.get();
      ResourceInformation gpu = TaskContext.get().resourcesJMap().get("gpu");
      return List.of(Backends.current("executor " + env.executorId() + " on "
          + env.blockManager().blockManagerId().host(), gpu == null ? List.of() : List.of(gpu.addresses())))
          .iterator();
    }
  }
}
