package io.distillery.evaluation;

import java.util.List;

/**
 * A small table for report.html (e.g. an ablation beside the student), cells already formatted.
 *
 * @param content what the cells hold, so that a purge can take quoted rows off the page
 */
public record Table(String title, String caption, List<String> header, List<List<String>> rows, Content content) {
  /** What a table's cells hold. */
  public enum Content {
    /** Figures over many rows (an ablation, a comparison). */
    SUMMARY,
    /** Held-out rows quoted: their texts and the teacher's answers; a purge of those answers removes the table. */
    HELD_OUT_ROWS
  }

  public Table {
    header = List.copyOf(header);
    rows = rows.stream().map(List::copyOf).toList();
    for (List<String> r : rows) {
      if (r.size() != header.size()) {
        throw new IllegalArgumentException("table '" + title + "': row " + r + " has " + r.size()
            + " cells for " + header.size() + " columns");
      }
    }
  }
}
