package io.distillery.jobs.spark;

import io.distillery.dataset.Column;
import io.distillery.dataset.DatasetKind;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/** Spark SQL schemas of the core's engine-neutral dataset definitions. */
public final class SparkSchemas {
  private SparkSchemas() {}

  private static final Map<DatasetKind, StructType> SCHEMAS = new EnumMap<>(DatasetKind.class);

  static {
    for (DatasetKind kind : DatasetKind.values()) {
      SCHEMAS.put(kind, build(kind));
    }
  }

  /** Schema of a dataset's files (without the run_id partition column). */
  public static StructType of(DatasetKind kind) {
    return SCHEMAS.get(kind);
  }

  private static StructType build(DatasetKind kind) {
    List<StructField> fields = new ArrayList<>();
    for (Column c : kind.columns()) {
      fields.add(DataTypes.createStructField(c.name(), sparkType(c), c.nullable()));
    }
    return DataTypes.createStructType(fields);
  }

  private static DataType sparkType(Column c) {
    return switch (c.type()) {
      case STRING -> DataTypes.StringType;
      case LONG -> DataTypes.LongType;
      case DOUBLE -> DataTypes.DoubleType;
      case BOOLEAN -> DataTypes.BooleanType;
      case TIMESTAMP -> DataTypes.TimestampType;
      case FLOAT_ARRAY -> DataTypes.createArrayType(DataTypes.FloatType, false);
      case STRING_ARRAY -> DataTypes.createArrayType(DataTypes.StringType, false);
      case BINARY -> DataTypes.BinaryType;
    };
  }
}
