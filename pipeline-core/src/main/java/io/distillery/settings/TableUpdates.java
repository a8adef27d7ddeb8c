package io.distillery.settings;

/** How Adam updates the student's table of token or n-gram vectors (train.table-updates). */
public enum TableUpdates implements Named {
  /** Only the rows a minibatch reads (TensorFlow's LazyAdam). */
  LAZY,
  /** DL4J's Adam on every row every step. */
  DENSE;

  @Override
  public String toString() {
    return configName();
  }
}
