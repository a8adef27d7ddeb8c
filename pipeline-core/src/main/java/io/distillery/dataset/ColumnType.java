package io.distillery.dataset;

import java.sql.Timestamp;
import java.util.List;

/** Engine-neutral column types; the jobs module maps them to Spark SQL types. */
public enum ColumnType {
  STRING, LONG, DOUBLE, BOOLEAN, TIMESTAMP, FLOAT_ARRAY, STRING_ARRAY, BINARY;

  /** Whether {@code value} (not null) is a value of this type as rows carry it. */
  public boolean accepts(Object value) {
    return switch (this) {
      case STRING -> value instanceof String;
      case LONG -> value instanceof Long;
      case DOUBLE -> value instanceof Double;
      case BOOLEAN -> value instanceof Boolean;
      case TIMESTAMP -> value instanceof Timestamp;
      case FLOAT_ARRAY -> value instanceof float[] || value instanceof Float[] || value instanceof List<?>;
      case STRING_ARRAY -> value instanceof String[] || value instanceof List<?>;
      case BINARY -> value instanceof byte[];
    };
  }
}
