package io.distillery.jobs.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.jobs.TestRuns;
import io.distillery.util.Hashing;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** train.fraction: a sample by row id, the same rows however the data is partitioned, nested as it grows. */
class TrainSampleTest {
  @Test
  void aFractionOfTheTrainingRowsIsTheSameSampleEveryTimeAndNested() {
    SparkSession spark = TestRuns.spark(TestRuns.settings(Map.of("distillery.spark.master", "local[2]")));
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 4000; i++) {
      rows.add(RowFactory.create(Hashing.sha256Hex("document " + i).substring(0, 32)));
    }
    Dataset<Row> all = spark.createDataFrame(rows, new StructType().add(Cols.ROW_ID, DataTypes.StringType));

    Set<String> quarter = ids(TrainJob.sample(all.repartition(3), 0.25));
    assertTrue(quarter.size() > 1000 - 3 * 27 && quarter.size() < 1000 + 3 * 27, "sampled " + quarter.size());
    assertEquals(quarter, ids(TrainJob.sample(all.repartition(7), 0.25)), "the same rows, whatever the partitions");
    Set<String> half = ids(TrainJob.sample(all, 0.5));
    assertTrue(half.containsAll(quarter) && half.size() > quarter.size(), "a larger fraction adds rows");
    assertEquals(4000, TrainJob.sample(all, 1.0).count());
  }

  private static Set<String> ids(Dataset<Row> rows) {
    return new HashSet<>(rows.as(Encoders.STRING()).collectAsList());
  }
}
