package io.distillery.run;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.distillery.provenance.TeacherIdentity;
import io.distillery.settings.SignOff;
import io.distillery.settings.TaskKind;
import io.distillery.util.Version;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;

/**
 * What one run learnt from, under which terms, and how it turned out (reports/RUN/transparency.json, and
 * transparency.html for people): the record a data-protection officer, a rightsholder or a regulator asks for. Built
 * from the run's manifests, model card and evaluation and from its datasets themselves (rows per teacher and served
 * model, tokens, the data files' content hashes), never from the current config alone.
 *
 * @param code the build that wrote this report; {@code stageCode} the build each stage ran with
 * @param signOffs every sign-off a stage recorded, by stage
 * @param teachers each teacher whose answers the run's datasets hold
 * @param datasets every dataset the run wrote, its data files hashed
 * @param accounting each stage's row counts as its manifest records them
 * @param failures the teacher's failures by error class
 * @param quarantine rows kept out, by dataset and reason
 * @param student the trained student (null: the run trained none, or not yet)
 * @param evaluation its evaluation (null: not evaluated)
 * @param euPublicSummary the EU AI Office's public summary of training content, filled from the run
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TransparencyReport(
    String runId,
    TaskKind task,
    String createdAt,
    Code code,
    Map<String, String> stageCode,
    String purpose,
    boolean competesWithTeacherProvider,
    List<StageSignOff> signOffs,
    List<TeacherUse> teachers,
    List<DatasetFiles> datasets,
    Map<String, Map<String, Long>> accounting,
    List<ReasonCount> failures,
    List<ReasonCount> quarantine,
    Student student,
    Evaluation evaluation,
    EuPublicSummary euPublicSummary) {

  /** A Distillery build: its Maven version, the git commit it was built from, and whether the tree had changes. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record Code(String version, String commit, String commitTime, boolean dirty) {
    public static Code of(Version v) {
      return new Code(v.version(), v.commit(), v.commitTime(), v.dirty());
    }
  }

  /** A sign-off a stage recorded. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record StageSignOff(String stage, SignOff signOff) {}

  /**
   * One teacher's part in the run.
   *
   * @param rows its answers in the run's datasets, all datasets together; {@code rowsByDataset} per dataset
   * @param servedModels what answered, as the server reported it (in-process teachers: their own name)
   * @param promptTokens input tokens the server counted for the answers sent this time (not read from the cache)
   * @param cachedRows answers read from the response cache rather than asked again
   * @param cost what the tokens cost at the configured price (null: no price configured, or the run's teacher is no
   *     longer the configured one)
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record TeacherUse(TeacherIdentity identity, long rows, Map<String, Long> rowsByDataset,
      List<ServedModel> servedModels, long promptTokens, long completionTokens, long cachedRows, Double cost,
      String currency, String firstAnswer, String lastAnswer) {}

  /** A model as the server named it, with the system fingerprint it sent (null: none), and the rows it answered. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record ServedModel(String servedModel, String systemFingerprint, long rows) {}

  /**
   * A dataset the run wrote, at the snapshot its stage committed.
   *
   * @param learntFrom whether the student was trained on it
   * @param files its data files with the sha256 of their bytes
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record DatasetFiles(String dataset, String stage, boolean learntFrom, String table, long snapshotId,
      long rows, List<HashedFile> files) {}

  /** A data file: where, its size, its rows and the sha256 of its content. */
  public record HashedFile(String path, long bytes, long rows, String sha256) {}

  /** Rows of a dataset that share a reason (a quarantine reason, a failure's error class). */
  public record ReasonCount(String dataset, String reason, long rows) {}

  /** The student: its file's hash and size, what it is, and the training. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record Student(String model, String modelSha256, long modelBytes, String kind, int epochs, int workers) {}

  /**
   * The student's evaluation: the gate and each metric, beside the promoted student's on the same rows.
   *
   * @param comparedWith the run whose promoted student it was held against (null: none; the thresholds alone)
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Evaluation(boolean gatePassed, List<String> gateFailures, String comparedWith,
      List<MetricChange> metrics, boolean promoted) {}

  /** A metric, the promoted student's value (null: not compared) and the change from it. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record MetricChange(String metric, double value, Double promoted, Double change) {}

  /**
   * The sections of the EU AI Office's template for the public summary of training content (July 2025), filled from
   * the run. Distillery knows the data side; the provider's own details come from purpose.provider.
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record EuPublicSummary(General generalInformation, Sources dataSources, Processing dataProcessing) {

    /**
     * Section 1: provider, model, modalities, size and characteristics of the training data.
     *
     * @param modelDependencies the models the student was distilled from
     * @param trainingDataSize the template's size band for text (e.g. "less than 1 billion tokens"), with the rows
     * @param latestDataCollection when the last teacher answer the student learnt from was made (ISO-8601)
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record General(String provider, String modelName, List<String> modelDependencies, List<String> modalities,
        String trainingDataSize, long trainingRows, long trainingTokens, String latestDataCollection,
        List<String> languages) {}

    /** Section 2: where the training data came from. Teacher answers are the template's "synthetic data". */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Sources(List<String> publiclyAvailableDatasets, List<String> privateThirdPartyDatasets,
        String crawledOnlineSources, String userData, Synthetic syntheticData, List<String> otherSources) {}

    /** Whether AI-generated data was used, which models made it, and how. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Synthetic(boolean used, List<String> generatingModels, String description) {}

    /** Section 3: rights reservations and terms, removal of content, other processing. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Processing(String rightsReservations, String contentRemoval, String otherProcessing) {}
  }

  public byte[] toJson() {
    try {
      return StageManifest.json().writeValueAsBytes(this);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static TransparencyReport fromJson(byte[] json) {
    try {
      return StageManifest.json().readValue(json, TransparencyReport.class);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read a transparency report", e);
    }
  }
}
