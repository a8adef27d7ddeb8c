package io.distillery.dataset;

import java.io.Serializable;

/** A column of a Distillery dataset. */
public record Column(String name, ColumnType type, boolean nullable, String doc) implements Serializable {
  public static Column required(String name, ColumnType type, String doc) {
    return new Column(name, type, false, doc);
  }

}
