package io.distillery.provenance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.distillery.TestSettings;
import io.distillery.settings.Settings;
import io.distillery.settings.SignOff;
import io.distillery.settings.TaskKind;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The teacher's terms against a run's student and purpose: each clause refuses on its own, a sign-off lets it go. */
class TermsPolicyTest {
  private static TeacherIdentity teacher(Map<String, String> terms) {
    return TeacherIdentity.of(TestSettings.withOverrides(terms).teacher(), "");
  }

  private static Settings.Purpose purpose(boolean competes, String signOff) {
    return TestSettings.withOverrides(Map.of("distillery.purpose.competes-with-teacher-provider",
        Boolean.toString(competes), "distillery.purpose.sign-off", signOff)).purpose();
  }

  @Test
  void theDefaultTermsAllowEveryStudentThatDoesNotCompete() {
    TeacherIdentity open = teacher(Map.of());
    for (TaskKind task : TaskKind.values()) {
      assertEquals(Optional.empty(), TermsPolicy.require(open, task, purpose(false, ""), "generate"));
    }
  }

  @Test
  void eachClauseRefusesNamingItselfAndTheSignOffFlag() {
    TeacherIdentity embeddingsOnly = teacher(Map.of("distillery.teacher.terms.students", "[embedding-model]",
        "distillery.teacher.terms.competing-models", "forbidden", "distillery.teacher.terms.id", "ExampleAI-ToS",
        "distillery.teacher.terms.version", "2026-01-15"));
    assertEquals(Optional.empty(), TermsPolicy.require(embeddingsOnly, TaskKind.EMBED, purpose(false, ""), "train"));

    var student = assertThrows(TermsForbidException.class,
        () -> TermsPolicy.require(embeddingsOnly, TaskKind.CLASSIFY, purpose(false, ""), "generate"));
    assertTrue(student.getMessage().startsWith("Refusing to run generate: the terms of teacher 'sentence-transformers/all-MiniLM-L6-v2' "
        + "(ExampleAI-ToS 2026-01-15, "), student.getMessage());
    assertTrue(student.getMessage().contains("teacher.terms.students = [embedding-model] does not include "
        + "classifier") && student.getMessage().contains("--sign-off"), student.getMessage());

    var competing = assertThrows(TermsForbidException.class,
        () -> TermsPolicy.require(embeddingsOnly, TaskKind.EMBED, purpose(true, ""), "train"));
    assertTrue(competing.getMessage().contains("teacher.terms.competing-models = forbidden, and the run's student "
        + "competes with the teacher's provider (purpose.competes-with-teacher-provider = true)"),
        competing.getMessage());
    assertEquals(1, TermsPolicy.refusals(embeddingsOnly.terms(), TaskKind.EMBED.studentUse(), purpose(true, ""))
        .size());

    TeacherIdentity forbidden = teacher(Map.of("distillery.teacher.terms.distillation", "forbidden"));
    assertTrue(TermsPolicy.refusals(forbidden.terms(), TaskKind.EMBED.studentUse(), purpose(false, "")).get(0)
        .startsWith("teacher.terms.distillation = forbidden"));
  }

  @Test
  void aSignOffLetsTheRunGoAheadAndIsReturnedToBeRecorded() {
    TeacherIdentity noLms = teacher(Map.of("distillery.teacher.terms.students", "[embedding-model, classifier]"));
    Optional<SignOff> used = TermsPolicy.require(noLms, TaskKind.LANGUAGE_MODEL,
        purpose(false, " Jane Roe, legal :  licence LA-2026-17 covers it "), "generate");
    assertEquals(Optional.of(new SignOff("Jane Roe, legal", "licence LA-2026-17 covers it")), used);
  }

  @Test
  void manifestsWrittenBeforeTheClausesWereRecordedFallBackToTheBlanketPermission() {
    TeacherIdentity old = new TeacherIdentity("t", "1", "a", "", "Apache-2.0", "u", null, true, null, null);
    assertEquals(List.of(), TermsPolicy.refusals(old.terms(), TaskKind.CLASSIFY.studentUse(), purpose(false, "")));
  }
}
