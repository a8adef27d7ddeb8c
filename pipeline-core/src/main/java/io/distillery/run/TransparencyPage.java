package io.distillery.run;

import static io.distillery.util.Html.escape;

import io.distillery.provenance.TeacherIdentity;
import io.distillery.run.TransparencyReport.EuPublicSummary;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/** The transparency report for people: one self-contained HTML page, the JSON's facts in sections. */
public final class TransparencyPage {
  private TransparencyPage() {}

  public static String html(TransparencyReport r) {
    StringBuilder h = new StringBuilder();
    h.append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Transparency report: ")
        .append(escape(r.runId())).append("</title><style>")
        .append("body{font-family:system-ui,sans-serif;max-width:1040px;margin:2em auto;color:#222;line-height:1.4}")
        .append("table{border-collapse:collapse;margin:.5em 0 1em}")
        .append("td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}")
        .append("td.n{text-align:right;font-variant-numeric:tabular-nums}code{font-size:90%}")
        .append(".pass{color:#0a0;font-weight:bold}.fail{color:#c00;font-weight:bold}")
        .append("dt{font-weight:bold;margin-top:.6em}dd{margin-left:1.5em}")
        .append("</style></head><body>");
    h.append("<h1>Transparency report: run ").append(escape(r.runId())).append("</h1>");
    h.append("<p>Task <b>").append(escape(r.task().configName())).append("</b>. Written ")
        .append(escape(r.createdAt())).append(" by Distillery ").append(escape(r.code().version()))
        .append(", commit <code>").append(escape(r.code().commit())).append("</code>")
        .append(r.code().dirty() ? " (built from a changed tree)" : "").append(".</p>");
    purpose(h, r);
    teachers(h, r.teachers());
    datasets(h, r.datasets());
    accounting(h, r);
    student(h, r);
    eu(h, r.euPublicSummary());
    return h.append("</body></html>").toString();
  }

  private static void purpose(StringBuilder h, TransparencyReport r) {
    h.append("<h2>Purpose and sign-offs</h2><p>")
        .append(r.purpose().isEmpty() ? "No purpose declared (purpose.description)." : escape(r.purpose()))
        .append("<br>Competes with the teacher's provider: ").append(r.competesWithTeacherProvider() ? "yes" : "no")
        .append("</p>");
    if (r.signOffs().isEmpty()) {
      h.append("<p>No sign-off: the teachers' terms allow the run as declared.</p>");
    } else {
      table(h, List.of("stage", "signed off by", "why"), r.signOffs().stream()
          .map(s -> List.of(s.stage(), s.signOff().who(), s.signOff().why())).toList(), 0);
    }
  }

  private static void teachers(StringBuilder h, List<TransparencyReport.TeacherUse> teachers) {
    h.append("<h2>Teachers and terms</h2>");
    if (teachers.isEmpty()) {
      h.append("<p>No teacher answer is in the run's datasets.</p>");
    }
    for (TransparencyReport.TeacherUse t : teachers) {
      TeacherIdentity id = t.identity();
      h.append("<h3>").append(escape(id.name() + " " + id.version())).append("</h3><dl>")
          .append("<dt>Model</dt><dd>").append(escape(id.artifact()))
          .append(id.modelSha256().isEmpty() ? " (remote: its weights are not visible)"
              : "<br>sha256 <code>" + escape(id.modelSha256()) + "</code>").append("</dd>")
          .append("<dt>Terms</dt><dd>").append(escape(id.termsId()))
          .append(id.termsVersion() == null || id.termsVersion().isEmpty() ? "" : ", version "
              + escape(id.termsVersion()))
          .append(id.termsUrl().isEmpty() ? "" : " — <a href=\"" + escape(id.termsUrl()) + "\">"
              + escape(id.termsUrl()) + "</a>")
          .append("<br>Distillation ").append(id.distillationAllowed() ? "allowed" : "forbidden")
          .append(id.allowedStudents() == null ? "" : "; students allowed: " + escape(id.allowedStudents().stream()
              .map(u -> u.configName()).collect(Collectors.joining(", "))))
          .append(id.competingAllowed() == null ? "" : "; competing models "
              + (id.competingAllowed() ? "allowed" : "forbidden")).append("</dd>")
          .append("<dt>Answers</dt><dd>").append(String.format(Locale.ROOT, "%,d", t.rows())).append(" rows (")
          .append(escape(t.rowsByDataset().entrySet().stream().map(e -> e.getKey() + " " + e.getValue())
              .collect(Collectors.joining(", ")))).append("), ")
          .append(String.format(Locale.ROOT, "%,d", t.cachedRows())).append(" of them read from the response cache")
          .append(t.firstAnswer() == null ? "" : "; answered " + escape(t.firstAnswer()) + " to "
              + escape(t.lastAnswer())).append("</dd>")
          .append("<dt>Tokens and cost</dt><dd>").append(String.format(Locale.ROOT, "%,d input, %,d output",
              t.promptTokens(), t.completionTokens()))
          .append(t.cost() == null ? "; no price configured" : String.format(Locale.ROOT, "; %.4f %s", t.cost(),
              escape(t.currency()))).append("</dd></dl>");
      table(h, List.of("served model", "system fingerprint", "rows"), t.servedModels().stream()
          .map(m -> List.of(m.servedModel(), m.systemFingerprint() == null ? "(none sent)" : m.systemFingerprint(),
              String.format(Locale.ROOT, "%,d", m.rows()))).toList(), 2);
    }
  }

  private static void datasets(StringBuilder h, List<TransparencyReport.DatasetFiles> datasets) {
    h.append("<h2>Datasets</h2><p>Every dataset the run wrote, at the snapshot its stage committed; the sha256 is "
        + "of each data file's bytes.</p>");
    for (TransparencyReport.DatasetFiles d : datasets) {
      h.append("<h3>").append(escape(d.dataset())).append(d.learntFrom() ? " — the student learnt from it" : "")
          .append("</h3><p>Written by ").append(escape(d.stage())).append(": table <code>").append(escape(d.table()))
          .append("</code>, snapshot ").append(d.snapshotId()).append(", ")
          .append(String.format(Locale.ROOT, "%,d", d.rows())).append(" rows.</p>");
      table(h, List.of("data file", "bytes", "rows", "sha256"), d.files().stream()
          .map(f -> List.of(f.path(), String.format(Locale.ROOT, "%,d", f.bytes()),
              String.format(Locale.ROOT, "%,d", f.rows()), f.sha256())).toList(), 1);
    }
  }

  private static void accounting(StringBuilder h, TransparencyReport r) {
    h.append("<h2>Rows in and out</h2>");
    table(h, List.of("stage", "counts", "code"), r.accounting().entrySet().stream()
        .map(e -> List.of(e.getKey(), counts(e.getValue()), r.stageCode().getOrDefault(e.getKey(), ""))).toList(), 9);
    h.append("<h3>Teacher failures</h3>");
    reasons(h, r.failures(), "No prompt failed.");
    h.append("<h3>Quarantine</h3>");
    reasons(h, r.quarantine(), "Nothing was quarantined.");
  }

  private static void reasons(StringBuilder h, List<TransparencyReport.ReasonCount> rows, String none) {
    if (rows.isEmpty()) {
      h.append("<p>").append(none).append("</p>");
    } else {
      table(h, List.of("dataset", "reason", "rows"), rows.stream().map(c -> List.of(c.dataset(), c.reason(),
          String.format(Locale.ROOT, "%,d", c.rows()))).toList(), 2);
    }
  }

  private static void student(StringBuilder h, TransparencyReport r) {
    h.append("<h2>Student and evaluation</h2>");
    if (r.student() == null) {
      h.append("<p>The run trained no student (yet).</p>");
      return;
    }
    TransparencyReport.Student s = r.student();
    h.append("<p>").append(escape(s.kind())).append(", ").append(String.format(Locale.ROOT, "%,d", s.modelBytes()))
        .append(" bytes, sha256 <code>").append(escape(s.modelSha256())).append("</code>; ").append(s.epochs())
        .append(" epochs on ").append(s.workers()).append(" workers.</p>");
    TransparencyReport.Evaluation e = r.evaluation();
    if (e == null) {
      h.append("<p>Not evaluated yet.</p>");
      return;
    }
    h.append("<p>Promotion gate: ").append(e.gatePassed() ? "<span class=\"pass\">passed</span>"
        : "<span class=\"fail\">failed</span> (" + escape(String.join("; ", e.gateFailures())) + ")")
        .append(e.promoted() ? ", promoted" : "").append(". ")
        .append(e.comparedWith() == null ? "No promoted student to compare with."
            : "Compared with the promoted student of run " + escape(e.comparedWith()) + ", on the same rows.")
        .append("</p>");
    table(h, List.of("metric", "this run", "promoted", "change"), e.metrics().stream()
        .map(m -> List.of(m.metric(), number(m.value()), m.promoted() == null ? "" : number(m.promoted()),
            m.change() == null ? "" : String.format(Locale.ROOT, "%+.4f", m.change()))).toList(), 1);
  }

  private static void eu(StringBuilder h, EuPublicSummary eu) {
    h.append("<h2>Public summary of training content (EU AI Office template, 2025)</h2>");
    EuPublicSummary.General g = eu.generalInformation();
    h.append("<h3>1. General information</h3><dl>")
        .append(item("Provider", g.provider().isEmpty() ? "(not stated: purpose.provider)" : g.provider()))
        .append(item("Model", g.modelName()))
        .append(item("Distilled from", String.join("; ", g.modelDependencies())))
        .append(item("Modalities", String.join(", ", g.modalities())))
        .append(item("Size of the training data", g.trainingDataSize() + String.format(Locale.ROOT,
            " (%,d rows, about %,d tokens)", g.trainingRows(), g.trainingTokens())))
        .append(item("Latest data collection", g.latestDataCollection() == null ? "—" : g.latestDataCollection()))
        .append(item("Languages", g.languages().isEmpty() ? "not detected" : String.join(", ", g.languages())))
        .append("</dl>");
    EuPublicSummary.Sources s = eu.dataSources();
    h.append("<h3>2. List of data sources</h3><dl>")
        .append(item("2.1 Publicly available datasets", list(s.publiclyAvailableDatasets())))
        .append(item("2.2 Private datasets obtained from third parties", list(s.privateThirdPartyDatasets())))
        .append(item("2.3 Data crawled and scraped from online sources", s.crawledOnlineSources()))
        .append(item("2.4 User data", s.userData()))
        .append(item("2.5 Synthetic data", (s.syntheticData().used() ? "Yes. " : "No. ")
            + s.syntheticData().description() + (s.syntheticData().generatingModels().isEmpty() ? ""
            : " Generating models: " + String.join("; ", s.syntheticData().generatingModels()) + ".")))
        .append(item("2.6 Other sources", list(s.otherSources())))
        .append("</dl>");
    EuPublicSummary.Processing p = eu.dataProcessing();
    h.append("<h3>3. Data processing aspects</h3><dl>")
        .append(item("3.1 Reservation of rights and terms of use", p.rightsReservations()))
        .append(item("3.2 Removal of content", p.contentRemoval()))
        .append(item("3.3 Other processing", p.otherProcessing()))
        .append("</dl>");
  }

  private static String item(String term, String text) {
    return "<dt>" + escape(term) + "</dt><dd>" + escape(text) + "</dd>";
  }

  private static String list(List<String> items) {
    return items.isEmpty() ? "None." : String.join("; ", items);
  }

  private static String counts(Map<String, Long> counts) {
    return counts.entrySet().stream().map(e -> e.getKey() + " " + String.format(Locale.ROOT, "%,d", e.getValue()))
        .collect(Collectors.joining(", "));
  }

  private static String number(double v) {
    return Math.abs(v) >= 1000 ? String.format(Locale.ROOT, "%,.0f", v) : String.format(Locale.ROOT, "%.4f", v);
  }

  /** A table; columns from {@code firstNumeric} on are right-aligned. */
  private static void table(StringBuilder h, List<String> header, List<List<String>> rows, int firstNumeric) {
    h.append("<table><tr>");
    header.forEach(c -> h.append("<th>").append(escape(c)).append("</th>"));
    h.append("</tr>");
    for (List<String> row : rows) {
      h.append("<tr>");
      for (int i = 0; i < row.size(); i++) {
        h.append(i >= firstNumeric ? "<td class=\"n\">" : "<td>").append(escape(row.get(i))).append("</td>");
      }
      h.append("</tr>");
    }
    h.append("</table>");
  }
}
