package io.distillery.jobs.stage;

import io.distillery.dataset.DatasetKind;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.provenance.TeacherIdentity;
import io.distillery.provenance.TermsForbidException;
import io.distillery.provenance.TermsPolicy;
import io.distillery.run.StageManifest;
import io.distillery.settings.Settings;
import io.distillery.settings.SignOff;
import java.util.List;
import java.util.Optional;
import org.apache.spark.sql.Encoders;

/** The teacher's terms, checked by the stages that generate from a teacher or learn from its outputs. */
public final class TermsCheck {
  /** More distinct terms than this on one run's rows is a mixed dataset this check refuses anyway. */
  private static final int MAX_TERMS = 16;

  private TermsCheck() {}

  /** Generate: the configured teacher's terms against the run's task and purpose, before any request. */
  public static Optional<SignOff> configured(Settings settings, String stage) {
    return TermsPolicy.require(TeacherIdentity.of(settings.teacher(), ""), settings.task(), settings.purpose(), stage);
  }

  /**
   * Train and evaluate: the configured terms, and the terms recorded for the rows of {@code outputs} the stage reads
   * (each row's terms id must be the one the run's generate manifest recorded, whose clauses are then checked), so a
   * dataset generated under terms that do not allow the purpose cannot be learnt from by editing the config.
   */
  public static Optional<SignOff> ofRows(StageContext ctx, DatasetKind outputs, StageManifest generate, String stage) {
    Settings settings = ctx.settings();
    Optional<SignOff> configured = configured(settings, stage);
    TeacherIdentity recorded = generate.teacher();
    List<String> onRows = ctx.read(outputs).select(Cols.TERMS).distinct().limit(MAX_TERMS)
        .as(Encoders.STRING()).collectAsList(); // the distinct terms ids: a handful of values
    for (String id : onRows) {
      if (recorded == null || !id.equals(recorded.termsId())) {
        throw new TermsForbidException("Refusing to run " + stage + ": rows of " + ctx.describe(outputs)
            + " carry terms '" + id + "', which the run's generate manifest does not record (it records "
            + (recorded == null ? "no teacher" : "'" + recorded.termsId() + "'") + "): their clauses are unknown.");
      }
    }
    if (recorded == null) {
      return configured; // no rows, no recorded teacher: nothing was generated to learn from
    }
    Optional<SignOff> rows = TermsPolicy.require(recorded, settings.task(), settings.purpose(),
        stage + " on rows generated under them");
    return rows.or(() -> configured);
  }
}
