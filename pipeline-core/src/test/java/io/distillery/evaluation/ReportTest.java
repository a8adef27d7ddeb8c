package io.distillery.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ReportTest {
  private static final String QUOTED = "A held-out sentence <with markup> & the teacher's answer";

  private static String page() {
    EvaluationResult result = new EvaluationResult(Map.of(Gate.MEAN_COSINE, 0.9),
        List.of(new Table("Ablation", "Figures over every row.", List.of("student", "cosine"),
                List.of(List.of("main", "0.900")), Table.Content.SUMMARY),
            new Table("Examples: nearest neighbours", "Quoted rows.", List.of("sentence", "neighbour"),
                List.of(List.of(QUOTED, "</section><b>not a tag</b>")), Table.Content.HELD_OUT_ROWS)),
        List.of());
    List<Gate.Threshold> gate = List.of(Gate.Threshold.atLeast(Gate.MEAN_COSINE, 0.85, "cosine"));
    return Report.html(new Report.Page("night-1", "student", "teacher", Map.of("teacher", "minilm"), result,
        Gate.check(gate, result), gate, Map.of(), Optional.empty(), List.of()));
  }

  @Test
  void withoutHeldOutRowsDropsTheQuotedRowsAndKeepsTheRest() {
    String html = page();
    assertTrue(html.contains(Report.escape(QUOTED)), html);
    String purged = Report.withoutHeldOutRows(html, "Purge p-1 (teacher = minilm) removed them.");
    assertFalse(purged.contains(Report.escape(QUOTED)), purged);
    assertFalse(purged.contains("not a tag"), "an escaped closing tag in a cell does not end the section early");
    assertTrue(purged.contains("<h2>Examples: nearest neighbours</h2>"), "the table's title stays");
    assertTrue(purged.contains("Removed: Purge p-1"), purged);
    assertTrue(purged.contains("<h1>Evaluation of run night-1</h1><p class=\"verdict fail\" id=\"purged\">"), purged);
    assertTrue(purged.contains("<td class=\"n\">0.900</td>"), "summary tables stay");
    assertEquals(purged, Report.withoutHeldOutRows(purged, "a second purge"), "done again, it changes nothing");
  }
}
