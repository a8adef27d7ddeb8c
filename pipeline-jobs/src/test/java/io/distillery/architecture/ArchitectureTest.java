package io.distillery.architecture;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import io.distillery.jobs.pipeline.TaskRegistry;
import io.distillery.jobs.task.DistillationTask;
import io.distillery.settings.TaskKind;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The walls between modules and packages, checked on the compiled classes: the core knows no engine, no packages
 * form a cycle, the stage jobs are generic (only the task registry names a task kind's package), and the core's
 * packages depend downwards only (teacher and student share the tokenizer and provenance, never each other).
 */
class ArchitectureTest {
  private static final String JOBS = "io.distillery.jobs..";
  private static JavaClasses classes;

  @BeforeAll
  static void importTheMainClasses() {
    classes = new ClassFileImporter()
        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .withImportOption(location -> !location.contains("-tests.jar") && !location.contains("/test-classes/"))
        .importPackages("io.distillery");
    assertFalse(classes.isEmpty());
  }

  @Test
  void theCoreKnowsNoSparkHadoopOrScala() {
    noClasses().that().resideOutsideOfPackage(JOBS)
        .should().dependOnClassesThat().resideInAnyPackage("org.apache.spark..", "org.apache.hadoop..", "scala..")
        .because("pipeline-core is engine-neutral: teachers, students, losses, metrics, settings, layouts")
        .check(classes);
  }

  @Test
  void noPackagesFormACycle() {
    slices().matching("io.distillery.(**)").should().beFreeOfCycles().check(classes);
  }

  @Test
  void onlyTheRegistryNamesATaskKindsPackage() {
    for (TaskKind kind : TaskKind.values()) {
      String own = taskPackage(kind);
      classes().that().resideInAPackage(own + "..")
          .should().onlyHaveDependentClassesThat().resideInAnyPackage(own + "..", "io.distillery.jobs.pipeline..")
          .because("stage jobs are generic: a task kind is reached through jobs.pipeline.TaskRegistry")
          .check(classes);
    }
  }

  @Test
  void everyTaskKindIsOnePackageUnderJobsTask() {
    for (TaskKind kind : TaskKind.values()) {
      DistillationTask task = TaskRegistry.of(kind);
      assertEquals(kind, task.kind());
      for (Object part : Stream.of(Optional.of(task.generation()), task.student(), task.evaluation())
          .flatMap(Optional::stream).toList()) {
        assertEquals(taskPackage(kind), part.getClass().getPackageName(), part.getClass().getName());
      }
    }
  }

  @Test
  void tasksKnowNoStageJobNorEachOther() {
    noClasses().that().resideInAnyPackage("io.distillery.jobs.task..")
        .should().dependOnClassesThat().resideInAnyPackage("io.distillery.jobs.ingest..",
            "io.distillery.jobs.generate..", "io.distillery.jobs.train..", "io.distillery.jobs.evaluate..",
            "io.distillery.jobs.pipeline..", "io.distillery.jobs.cli..")
        .check(classes);
    for (TaskKind kind : TaskKind.values()) {
      for (TaskKind other : TaskKind.values()) {
        if (other != kind) {
          noClasses().that().resideInAPackage(taskPackage(kind) + "..")
              .should().dependOnClassesThat().resideInAPackage(taskPackage(other) + "..")
              .check(classes);
        }
      }
    }
  }

  @Test
  void stageJobsKnowNoOtherStageJob() {
    String[] stages = {"ingest", "generate", "train", "evaluate"};
    for (String stage : stages) {
      for (String other : stages) {
        if (!other.equals(stage)) {
          noClasses().that().resideInAPackage("io.distillery.jobs." + stage + "..")
              .should().dependOnClassesThat().resideInAPackage("io.distillery.jobs." + other + "..")
              .check(classes);
        }
      }
    }
  }

  @Test
  void theCoresPackagesDependDownwardsOnly() {
    below("io.distillery.util..", "io.distillery..");
    below("io.distillery.settings..", "io.distillery.provenance..", "io.distillery.dataset..",
        "io.distillery.run..", "io.distillery.tokenizer..", "io.distillery.teacher..", "io.distillery.student..",
        "io.distillery.corpus..", "io.distillery.evaluation..", JOBS);
    below("io.distillery.tokenizer..", "io.distillery.provenance..", "io.distillery.dataset..",
        "io.distillery.run..", "io.distillery.teacher..", "io.distillery.student..", "io.distillery.corpus..",
        "io.distillery.evaluation..", JOBS);
    below("io.distillery.provenance..", "io.distillery.dataset..", "io.distillery.run..", "io.distillery.teacher..",
        "io.distillery.student..", "io.distillery.corpus..", "io.distillery.evaluation..", JOBS);
    below("io.distillery.dataset..", "io.distillery.run..", "io.distillery.teacher..", "io.distillery.student..",
        "io.distillery.corpus..", "io.distillery.evaluation..", JOBS);
    below("io.distillery.teacher..", "io.distillery.dataset..", "io.distillery.run..", "io.distillery.student..",
        "io.distillery.corpus..", "io.distillery.evaluation..", JOBS);
    below("io.distillery.student..", "io.distillery.teacher..", "io.distillery.dataset..", "io.distillery.run..",
        "io.distillery.corpus..", "io.distillery.evaluation..", JOBS);
    below("io.distillery.run..", "io.distillery.teacher..", "io.distillery.student..", "io.distillery.corpus..",
        "io.distillery.evaluation..", JOBS);
    below("io.distillery.corpus..", "io.distillery.teacher..", "io.distillery.student..", "io.distillery.dataset..",
        "io.distillery.run..", "io.distillery.evaluation..", JOBS);
    below("io.distillery.evaluation..", "io.distillery.teacher..", "io.distillery.student..",
        "io.distillery.dataset..", "io.distillery.run..", "io.distillery.corpus..", JOBS);
  }

  /** Classes of {@code layer} depend on no class of {@code above} (their own layer aside). */
  private static void below(String layer, String... above) {
    noClasses().that().resideInAPackage(layer)
        .should().dependOnClassesThat(resideInAnyPackage(above).and(not(resideInAPackage(layer))))
        .check(classes);
  }

  private static String taskPackage(TaskKind kind) {
    return "io.distillery.jobs.task." + kind.configName().replace("-", "");
  }
}
