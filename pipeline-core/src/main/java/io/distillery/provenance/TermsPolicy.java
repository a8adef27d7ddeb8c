package io.distillery.provenance;

import io.distillery.settings.Permission;
import io.distillery.settings.Settings;
import io.distillery.settings.SignOff;
import io.distillery.settings.StudentUse;
import io.distillery.settings.TaskKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether a teacher's terms allow a run: the model it builds (its task's {@link StudentUse}) and its declared purpose.
 * Generate asks it of the configured terms before any request; train and evaluate of the terms recorded when the rows
 * they read were generated, so a config edited afterwards changes nothing.
 */
public final class TermsPolicy {
  private static final Logger LOG = LoggerFactory.getLogger(TermsPolicy.class);

  private TermsPolicy() {}

  /** The clauses of {@code terms} that do not allow building {@code student} for {@code purpose}, in words. */
  public static List<String> refusals(Settings.Terms terms, StudentUse student, Settings.Purpose purpose) {
    List<String> clauses = new ArrayList<>();
    if (!terms.distillationAllowed()) {
      clauses.add(Settings.Terms.DISTILLATION.is(Permission.FORBIDDEN) + ": no model may be trained on the outputs");
    }
    if (!terms.students().contains(student)) {
      clauses.add(Settings.Terms.STUDENTS.is(terms.students()) + " does not include " + student);
    }
    if (purpose.competesWithTeacherProvider() && !terms.competingAllowed()) {
      clauses.add(Settings.Terms.COMPETING.is(Permission.FORBIDDEN) + ", and the run's student competes with the "
          + "teacher's provider (" + Settings.Purpose.COMPETES.is(true) + ")");
    }
    return clauses;
  }

  /**
   * Checks a run of {@code stage} against {@code teacher}'s terms: refuses it, naming each clause, unless the run
   * is signed off, which is logged and returned so the stage records it.
   *
   * @return the sign-off the run went ahead under, if the terms needed one
   * @throws TermsForbidException the terms do not allow the run and nobody signed it off (the CLI's exit 4)
   */
  public static Optional<SignOff> require(TeacherIdentity teacher, TaskKind task, Settings.Purpose purpose,
      String stage) {
    List<String> clauses = refusals(teacher.terms(), task.studentUse(), purpose);
    if (clauses.isEmpty()) {
      return Optional.empty();
    }
    String terms = "the terms of teacher '" + teacher.name() + "' (" + teacher.termsId()
        + (teacher.termsVersion() == null || teacher.termsVersion().isEmpty() ? "" : " " + teacher.termsVersion())
        + ", " + teacher.termsUrl() + ")";
    if (purpose.signedOff().isEmpty()) {
      throw new TermsForbidException("Refusing to run " + stage + ": " + terms + " do not allow building a " + task
          .studentUse() + (purpose.competesWithTeacherProvider() ? " that competes with the teacher's provider" : "")
          + ": " + String.join("; ", clauses) + ". If a separate agreement allows it, run with --sign-off \"who: "
          + "why\" (" + Settings.Purpose.SIGN_OFF.full() + "), which is recorded.");
    }
    LOG.warn("{}: {} do not allow it ({}), signed off by {}", stage, terms, String.join("; ", clauses),
        purpose.signOff());
    return purpose.signedOff();
  }
}
