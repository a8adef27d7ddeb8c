package io.distillery.settings;

/** Where the datasets' Iceberg tables are catalogued (tables.catalog). */
public enum TableCatalog implements Named {
  /** Metadata files beside the data under the warehouse directory: no server (the embedded default, HDFS roots). */
  HADOOP,
  /** A Hive Metastore (tables.uri = thrift://...): the tables show up where Hive, Trino and Spark SQL look. */
  HIVE,
  /** An Iceberg REST catalog (tables.uri = https://...). */
  REST;

  @Override
  public String toString() {
    return configName();
  }
}
