package io.distillery.dataset;

/** Engine-neutral column types; the jobs module maps them to Spark SQL types. */
public enum ColumnType { STRING, LONG, DOUBLE, BOOLEAN, TIMESTAMP, FLOAT_ARRAY, STRING_ARRAY }
