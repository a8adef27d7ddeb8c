package io.distillery.evaluation;

import io.distillery.util.Html;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The evaluation report a person reads in a minute: one self-contained HTML file (charts inlined as PNG). The
 * verdict first, then each gated metric beside its threshold and the promoted student's, every metric in words with
 * its meaning, where the student came from, the promoted students of the last nights, and the task's examples,
 * tables and charts.
 */
public final class Report {
  /** Promoted students shown in the trend, most recent last. */
  static final int NIGHTS = 14;
  /** The notice a purge puts under the title. */
  private static final String PURGED_ID = "id=\"purged\"";
  /** A table quoting held-out rows, its title kept apart; cells are escaped, so no cell holds a closing tag. */
  private static final Pattern EXAMPLES = Pattern.compile("<section class=\"examples\">(<h2>.*?</h2>).*?</section>",
      Pattern.DOTALL);

  private Report() {}

  /**
   * What the page shows.
   *
   * @param provenance what the student came from, in reading order: label to value (teacher, terms, datasets, code)
   * @param thresholds the task's gate
   * @param promoted the promoted student's value of each gated metric, when it was compared with (by metric key)
   * @param comparedWith the run of the promoted student compared with
   * @param nights the promoted students of the last nights, oldest first
   */
  public record Page(String runId, String student, String teacher, Map<String, String> provenance,
      EvaluationResult result, Gate gate, List<Gate.Threshold> thresholds, Map<String, Double> promoted,
      Optional<String> comparedWith, List<Night> nights) {
    public Page {
      provenance = Collections.unmodifiableMap(new LinkedHashMap<>(provenance));
      thresholds = List.copyOf(thresholds);
      promoted = Map.copyOf(promoted);
      nights = List.copyOf(nights);
    }
  }

  /** A promoted student: its run, when it was promoted, its metrics. */
  public record Night(String runId, String promotedAt, Map<String, Double> metrics) {}

  private static final String STYLE = "body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;"
      + "padding:0 1em;color:#222;line-height:1.4}"
      + "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{padding:4px 10px;border-bottom:1px solid #ddd;"
      + "text-align:left;vertical-align:top}th{background:#f4f4f4}"
      + "td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
      + "td.m{color:#555;font-size:90%}.verdict{padding:.6em 1em;border-radius:6px;font-size:120%}"
      + ".pass{background:#e6f6e6;color:#064}.fail{background:#fde8e8;color:#900}"
      + "span.pass,span.fail{padding:1px 6px;border-radius:4px;font-weight:bold}"
      + "dl{display:grid;grid-template-columns:max-content auto;gap:2px 16px}dt{color:#555}dd{margin:0;"
      + "word-break:break-all}img{max-width:100%}";

  public static String html(Page p) {
    StringBuilder h = new StringBuilder();
    h.append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Distillery evaluation: ")
        .append(escape(p.runId())).append("</title><style>").append(STYLE).append("</style></head><body>");
    h.append("<h1>Evaluation of run ").append(escape(p.runId())).append("</h1>");
    h.append("<p>Student: ").append(escape(p.student())).append("<br>Teacher: ").append(escape(p.teacher()))
        .append("</p>");
    verdict(h, p);
    gateTable(h, p);
    metrics(h, p.result());
    provenance(h, p.provenance());
    trend(h, p);
    for (Table t : p.result().tables()) {
      table(h, t);
    }
    for (Figure f : p.result().figures()) {
      figure(h, f);
    }
    return h.append("</body></html>").toString();
  }

  private static void verdict(StringBuilder h, Page p) {
    boolean passed = p.gate().passed();
    h.append("<p class=\"verdict ").append(passed ? "pass" : "fail").append("\" id=\"verdict\"><b>")
        .append(passed ? "Promoted" : "Not promoted").append("</b>: ");
    if (passed) {
      h.append(escape(p.comparedWith().map(r -> "every gated metric meets its threshold and none is worse than the "
          + "promoted student's (run " + r + ") by more than allowed.")
          .orElse("every gated metric meets its threshold (no promoted student to compare with).")));
    } else {
      h.append("<ul>");
      p.gate().failures().forEach(f -> h.append("<li>").append(escape(f)).append("</li>"));
      h.append("</ul>");
    }
    h.append("</p>");
  }

  private static void gateTable(StringBuilder h, Page p) {
    h.append("<h2>The gate</h2><table id=\"gate\"><tr><th>metric</th><th>value</th><th>threshold</th>"
        + "<th>verdict</th>");
    boolean compared = !p.promoted().isEmpty();
    if (compared) {
      h.append("<th>promoted (run ").append(escape(p.comparedWith().orElse("?"))).append(")</th><th>change (+ better)</th>");
    }
    h.append("</tr>");
    for (Gate.Threshold t : p.thresholds()) {
      MetricInfo info = MetricInfo.of(t.metric());
      double v = p.result().metrics().getOrDefault(t.metric(), Double.NaN);
      boolean holds = t.holds(v);
      h.append("<tr><td>").append(escape(info.name())).append("</td><td class=\"n\">").append(info.print(v))
          .append("</td><td class=\"n\">").append(t.atMost() ? "≤ " : "≥ ").append(info.print(t.limit()))
          .append("</td><td><span class=\"").append(holds ? "pass\">meets it" : "fail\">misses it")
          .append("</span></td>");
      if (compared) {
        Double before = p.promoted().get(t.metric());
        h.append("<td class=\"n\">").append(before == null ? "" : info.print(before)).append("</td><td class=\"n\">")
            .append(before == null ? "" : String.format("%+.1f %%", -100 * t.regression(v, before)))
            .append("</td>");
      }
      h.append("</tr>");
    }
    h.append("</table>");
  }

  private static void metrics(StringBuilder h, EvaluationResult result) {
    h.append("<h2>Metrics</h2><table id=\"metrics\"><tr><th>metric</th><th>value</th><th>what it means</th></tr>");
    for (Map.Entry<String, Double> e : new TreeMap<>(result.metrics()).entrySet()) {
      if (e.getKey().startsWith("promoted.")) {
        continue; // in the gate's table
      }
      MetricInfo info = MetricInfo.of(e.getKey());
      h.append("<tr><td title=\"").append(escape(e.getKey())).append("\">").append(escape(info.name()))
          .append("</td><td class=\"n\">").append(info.print(e.getValue())).append("</td><td class=\"m\">")
          .append(escape(info.meaning())).append("</td></tr>");
    }
    h.append("</table>");
  }

  private static void provenance(StringBuilder h, Map<String, String> provenance) {
    h.append("<h2>Where the student came from</h2><dl id=\"provenance\">");
    provenance.forEach((k, v) -> h.append("<dt>").append(escape(k)).append("</dt><dd>").append(escape(v))
        .append("</dd>"));
    h.append("</dl>");
  }

  private static void trend(StringBuilder h, Page p) {
    List<Night> nights = p.nights().subList(Math.max(0, p.nights().size() - NIGHTS), p.nights().size());
    h.append("<h2>Promoted students, last nights</h2>");
    if (nights.isEmpty()) {
      h.append("<p id=\"trend\">No student has been promoted yet.</p>");
      return;
    }
    List<String> runs = new ArrayList<>();
    nights.forEach(n -> runs.add(n.runId()));
    Map<String, List<Double>> series = new LinkedHashMap<>();
    for (Gate.Threshold t : p.thresholds()) {
      List<Double> values = new ArrayList<>();
      nights.forEach(n -> values.add(n.metrics().getOrDefault(t.metric(), Double.NaN)));
      series.put(MetricInfo.of(t.metric()).name(), values);
    }
    figure(h, new Figure("Gated metrics of the promoted students", "One point per promotion, oldest first; the "
        + "thresholds are in the gate's table.", Charts.lines("", "promoted run", runs, series)));
  }

  /**
   * {@code html} (a page {@link #html} wrote) with every table that quotes held-out rows replaced by {@code notice},
   * and the notice under the title: what a purge leaves of the page of a run whose answers it removed. Done again, it
   * changes nothing.
   */
  public static String withoutHeldOutRows(String html, String notice) {
    if (html.contains(PURGED_ID)) {
      return html;
    }
    String note = "<p class=\"verdict fail\" " + PURGED_ID + ">" + escape(notice) + "</p>";
    String page = EXAMPLES.matcher(html).replaceAll("<section class=\"examples\">$1"
        + Matcher.quoteReplacement("<p class=\"m\">" + escape("Removed: " + notice) + "</p></section>"));
    int title = page.indexOf("</h1>");
    return title < 0 ? page : page.substring(0, title + 5) + note + page.substring(title + 5);
  }

  private static void table(StringBuilder h, Table t) {
    boolean rows = t.content() == Table.Content.HELD_OUT_ROWS;
    if (rows) {
      h.append("<section class=\"examples\">");
    }
    h.append("<h2>").append(escape(t.title())).append("</h2><p>").append(escape(t.caption())).append("</p><table><tr>");
    t.header().forEach(c -> h.append("<th>").append(escape(c)).append("</th>"));
    h.append("</tr>");
    for (List<String> row : t.rows()) {
      h.append("<tr>");
      for (String cell : row) {
        h.append(numeric(cell) ? "<td class=\"n\">" : "<td>").append(escape(cell)).append("</td>");
      }
      h.append("</tr>");
    }
    h.append("</table>");
    if (rows) {
      h.append("</section>");
    }
  }

  private static boolean numeric(String cell) {
    return cell.matches("[-+]?[\\d,.]+( ?%|×)?");
  }

  private static void figure(StringBuilder h, Figure f) {
    h.append("<h2>").append(escape(f.title())).append("</h2><p>").append(escape(f.caption())).append("</p>")
        .append("<img class=\"chart\" alt=\"").append(escape(f.title())).append("\" src=\"data:image/png;base64,")
        .append(Base64.getEncoder().encodeToString(f.png())).append("\">");
  }

  static String escape(String s) {
    return Html.escape(s);
  }
}
