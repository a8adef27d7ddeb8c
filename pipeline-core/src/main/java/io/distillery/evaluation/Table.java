package io.distillery.evaluation;

import java.util.List;

/** A small table for report.html (e.g. an ablation beside the student), cells already formatted. */
public record Table(String title, String caption, List<String> header, List<List<String>> rows) {
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
