package io.distillery.jobs.lineage;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.distillery.provenance.TeacherIdentity;
import io.distillery.run.StageManifest;
import java.io.UncheckedIOException;
import java.util.function.Supplier;
import org.apache.spark.SparkContext;

/**
 * What Distillery tells the platform's lineage (OpenLineage) about the datasets a teacher's answers go into: the
 * Spark jobs that write them carry the teacher's identity and terms as a local property, which
 * {@link LineageFacets} turns into a dataset facet when the OpenLineage listener is configured (and which the
 * listener's {@code spark.openlineage.capturedProperties} can also record as is). Without the listener nothing reads
 * it.
 */
public final class Lineage {
  /** The Spark local property: the teacher identity as JSON, with the run id. */
  public static final String TEACHER = "distillery.lineage.teacher";

  private Lineage() {}

  /** What the property holds. */
  record Described(String runId, TeacherIdentity teacher) {}

  /** Runs {@code write} with the jobs it starts described as writing {@code teacher}'s answers for run {@code runId}. */
  public static <T> T describing(SparkContext sc, String runId, TeacherIdentity teacher, Supplier<T> write) {
    String before = sc.getLocalProperty(TEACHER);
    try {
      sc.setLocalProperty(TEACHER, StageManifest.json().writer().writeValueAsString(new Described(runId, teacher))
          .replace('\n', ' '));
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
    try {
      return write.get();
    } finally {
      sc.setLocalProperty(TEACHER, before);
    }
  }

  static Described read(String json) {
    try {
      return StageManifest.json().readValue(json, Described.class);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }
}
