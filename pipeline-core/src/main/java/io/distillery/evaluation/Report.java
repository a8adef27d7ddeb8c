package io.distillery.evaluation;

import io.distillery.util.Html;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The human-readable evaluation report: one self-contained HTML file (charts inlined). */
public final class Report {
  private Report() {}

  public static String html(String runId, String studentDescription, String teacherDescription,
      EvaluationResult result, Gate gate) {
    StringBuilder h = new StringBuilder();
    h.append("<!doctype html><html><head><meta charset=\"utf-8\"><title>Distillery evaluation: ")
        .append(escape(runId)).append("</title><style>")
        .append("body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;color:#222}")
        .append("table{border-collapse:collapse}td,th{padding:4px 12px;border-bottom:1px solid #ddd;text-align:left}")
        .append("td.n{text-align:right;font-variant-numeric:tabular-nums}")
        .append(".pass{color:#0a0;font-weight:bold}.fail{color:#c00;font-weight:bold}")
        .append("</style></head><body>");
    h.append("<h1>Evaluation of run ").append(escape(runId)).append("</h1>");
    h.append("<p>Student: ").append(escape(studentDescription)).append("<br>Teacher: ")
        .append(escape(teacherDescription)).append("</p>");
    h.append("<h2>Promotion gate: ").append(gate.passed() ? "<span class=\"pass\">PASSED</span>"
        : "<span class=\"fail\">FAILED</span>").append("</h2>");
    if (!gate.passed()) {
      h.append("<ul>");
      gate.failures().forEach(f -> h.append("<li>").append(escape(f)).append("</li>"));
      h.append("</ul>");
    }
    h.append("<h2>Metrics</h2><table><tr><th>metric</th><th>value</th></tr>");
    for (Map.Entry<String, Double> e : new TreeMap<>(result.metrics()).entrySet()) {
      h.append("<tr><td>").append(escape(e.getKey())).append("</td><td class=\"n\">")
          .append(format(e.getValue())).append("</td></tr>");
    }
    h.append("</table>");
    for (Table t : result.tables()) {
      h.append("<h2>").append(escape(t.title())).append("</h2><p>").append(escape(t.caption())).append("</p><table><tr>");
      t.header().forEach(c -> h.append("<th>").append(escape(c)).append("</th>"));
      h.append("</tr>");
      for (List<String> row : t.rows()) {
        h.append("<tr>");
        for (int i = 0; i < row.size(); i++) {
          h.append(i == 0 ? "<td>" : "<td class=\"n\">").append(escape(row.get(i))).append("</td>");
        }
        h.append("</tr>");
      }
      h.append("</table>");
    }
    for (Figure f : result.figures()) {
      h.append("<h2>").append(escape(f.title())).append("</h2><p>").append(escape(f.caption())).append("</p>")
          .append("<img alt=\"").append(escape(f.title())).append("\" src=\"data:image/png;base64,")
          .append(Base64.getEncoder().encodeToString(f.png())).append("\">");
    }
    return h.append("</body></html>").toString();
  }

  private static String format(double v) {
    return Math.abs(v) >= 1000 ? String.format("%,.0f", v) : String.format("%.4f", v);
  }

  static String escape(String s) {
    return Html.escape(s);
  }
}
