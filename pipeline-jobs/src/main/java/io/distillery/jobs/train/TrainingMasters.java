package io.distillery.jobs.train;

import io.distillery.settings.Settings;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;

/** DL4J's parameter-averaging training master, configured from the train settings. */
public final class TrainingMasters {
  /** Storage level of training examples: DL4J persists the RDD it is given at this level, so callers use it too. */
  public static final StorageLevel EXAMPLES = StorageLevel.MEMORY_AND_DISK_SER();

  private TrainingMasters() {}

  /**
   * @param workers number of Spark partitions trained at once; the examples RDD should have that many
   */
  public static ParameterAveragingTrainingMaster parameterAveraging(Settings.Train train, int workers) {
    return new ParameterAveragingTrainingMaster.Builder(workers, 1) // one example per RDD element
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
}
