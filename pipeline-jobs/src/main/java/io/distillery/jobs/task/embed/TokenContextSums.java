package io.distillery.jobs.task.embed;

import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.current_timestamp;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;

import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.jobs.spark.SparkSchemas;
import io.distillery.jobs.stage.StageContext;
import io.distillery.jobs.task.Byproduct;
import io.distillery.teacher.TokenContexts;
import java.io.Serializable;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import scala.Tuple2;

/**
 * The embed teacher's by-product: its hidden states summed per token over each partition's training prompts,
 * combined into teacher-token-contexts (the mean per token). A partition's sum travels as little-endian float32
 * bytes: a staging column generate reads back once, where an array of floats cost Parquet's writer a call per value,
 * and a partition has more distinct tokens than rows.
 */
final class TokenContextSums implements Byproduct {
  static final String STATE_SUM = "state_sum";

  private static final StructType PARTIAL = new StructType()
      .add(Cols.TOKEN_ID, DataTypes.LongType, false)
      .add(Cols.OCCURRENCES, DataTypes.LongType, false)
      .add(STATE_SUM, DataTypes.BinaryType, false);

  @Override
  public StructType schema() {
    return PARTIAL;
  }

  /** One token's partial row, by column name of {@link #schema}. */
  static Map<String, Object> partial(TokenContexts.Total total) {
    return Map.of(Cols.TOKEN_ID, total.tokenId(), Cols.OCCURRENCES, total.occurrences(),
        STATE_SUM, Vectors.packed(total.sum()));
  }

  /** Summed per token across partitions, never on the driver: bounded per partition by the vocabulary. */
  @Override
  public Map<String, Long> write(StageContext ctx, Dataset<Row> partials) {
    JavaRDD<Row> totals = partials.select(Cols.TOKEN_ID, Cols.OCCURRENCES, STATE_SUM).javaRDD()
        .mapToPair(r -> new Tuple2<>(r.getLong(0), new ContextSum(r.getLong(1), Vectors.unpacked(r.getAs(2)))))
        .reduceByKey(ContextSum::plus)
        .map(t -> RowFactory.create(t._1(), t._2().occurrences(), t._2().mean()));
    Dataset<Row> identity = ctx.read(DatasetKind.TEACHER_EMBEDDINGS)
        .select(Cols.TEACHER_NAME, Cols.TEACHER_VERSION, Cols.TEACHER_ARTIFACT, Cols.TEACHER_SHA256, Cols.TERMS)
        .limit(1);
    StructType schema = SparkSchemas.of(DatasetKind.TEACHER_TOKEN_CONTEXTS);
    StructType payload = new StructType(Stream.of(Cols.TOKEN_ID, Cols.OCCURRENCES, Cols.EMBEDDING)
        .map(schema::apply).toArray(StructField[]::new));
    ctx.write(ctx.spark().createDataFrame(totals, payload)
        .crossJoin(identity)
        .withColumn(Cols.CREATED_AT, current_timestamp()), DatasetKind.TEACHER_TOKEN_CONTEXTS);
    Row n = ctx.read(DatasetKind.TEACHER_TOKEN_CONTEXTS).agg(count(lit(1)), sum(Cols.OCCURRENCES)).first();
    return Map.of("context_tokens", n.getLong(0), "context_occurrences", n.isNullAt(1) ? 0 : n.getLong(1));
  }

  /** Occurrences of a token and the sum of the teacher's hidden states there. */
  record ContextSum(long occurrences, float[] sum) implements Serializable {
    ContextSum plus(ContextSum other) {
      float[] total = sum.clone();
      for (int d = 0; d < total.length; d++) {
        total[d] += other.sum[d];
      }
      return new ContextSum(occurrences + other.occurrences, total);
    }

    Float[] mean() {
      Float[] mean = new Float[sum.length];
      for (int d = 0; d < sum.length; d++) {
        mean[d] = (float) (sum[d] / (double) occurrences);
      }
      return mean;
    }
  }
}
