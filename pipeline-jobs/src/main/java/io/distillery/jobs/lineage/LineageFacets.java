package io.distillery.jobs.lineage;

import io.distillery.provenance.TeacherIdentity;
import io.distillery.settings.StudentUse;
import io.openlineage.client.OpenLineage;
import io.openlineage.spark.api.CustomFacetBuilder;
import io.openlineage.spark.api.OpenLineageContext;
import io.openlineage.spark.api.OpenLineageEventHandlerFactory;
import java.net.URI;
import java.util.Collection;
import java.util.List;
import java.util.function.BiConsumer;
import org.apache.spark.scheduler.SparkListenerJobStart;

/**
 * The OpenLineage Spark listener's extension (found through META-INF/services when the listener is on the
 * classpath): a {@code distillery_teacher} facet on the datasets of every job {@link Lineage#describing} marked,
 * naming the teacher, its version, model and terms, and the run.
 */
public final class LineageFacets implements OpenLineageEventHandlerFactory {
  public static final String FACET = "distillery_teacher";
  static final URI PRODUCER = URI.create("https://github.com/distillery/distillery");

  @Override
  public Collection<CustomFacetBuilder<?, ? extends OpenLineage.DatasetFacet>> createDatasetFacetBuilders(
      OpenLineageContext context) {
    return List.of(new TeacherFacetBuilder());
  }

  /** From a job's start: the local property its writer set, as the facet. */
  static final class TeacherFacetBuilder extends CustomFacetBuilder<SparkListenerJobStart, OpenLineage.DatasetFacet> {
    @Override
    protected void build(SparkListenerJobStart event, BiConsumer<String, ? super OpenLineage.DatasetFacet> out) {
      String json = event.properties() == null ? null : event.properties().getProperty(Lineage.TEACHER);
      if (json != null && !json.isEmpty()) {
        out.accept(FACET, new TeacherFacet(Lineage.read(json)));
      }
    }
  }

  /** The facet: OpenLineage serialises its getters. */
  public static final class TeacherFacet extends OpenLineage.DefaultDatasetFacet {
    private final Lineage.Described described;

    TeacherFacet(Lineage.Described described) {
      super(PRODUCER, null);
      this.described = described;
    }

    public String getRunId() {
      return described.runId();
    }

    public String getName() {
      return teacher().name();
    }

    public String getVersion() {
      return teacher().version();
    }

    public String getArtifact() {
      return teacher().artifact();
    }

    public String getTermsId() {
      return teacher().termsId();
    }

    public String getTermsUrl() {
      return teacher().termsUrl();
    }

    public String getTermsVersion() {
      return teacher().termsVersion();
    }

    public boolean isDistillationAllowed() {
      return teacher().distillationAllowed();
    }

    public List<String> getAllowedStudents() {
      return teacher().allowedStudents() == null ? null
          : teacher().allowedStudents().stream().map(StudentUse::configName).toList();
    }

    public Boolean getCompetingAllowed() {
      return teacher().competingAllowed();
    }

    private TeacherIdentity teacher() {
      return described.teacher();
    }
  }
}
