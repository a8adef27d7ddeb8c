package io.distillery.run;

import java.util.Map;

/**
 * A purge that removed rows a model learnt from (distillery purge): recorded on the model's card, its evaluation
 * and its promotion records. A tainted model cannot be promoted.
 *
 * @param purge the purge's id (its line in the audit log)
 * @param at when it ran (ISO-8601)
 * @param by who ran it
 * @param what what it removed, e.g. "teacher = teacher-x"
 * @param rows the rows it removed from the run's datasets, by dataset
 */
public record Taint(String purge, String at, String by, String what, Map<String, Long> rows) {

  @Override
  public String toString() {
    return "purge " + purge + " (" + what + ", " + at + " by " + by + ") removed " + rows;
  }
}
