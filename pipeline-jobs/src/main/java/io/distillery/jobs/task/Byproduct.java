package io.distillery.jobs.task;

import io.distillery.jobs.stage.StageContext;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * Partial results an in-process teacher emits beside its answers from the same pass over the prompts (e.g. its
 * hidden states summed per token over a partition), combined and written once the prompts are answered.
 */
public interface Byproduct {
  /** Schema of the partial rows each partition emits ({@link PartitionTeacher#byproducts}). */
  StructType schema();

  /** Combines every partition's partial rows, writes the result and returns its counts for the manifest. */
  Map<String, Long> write(StageContext ctx, Dataset<Row> partials);
}
