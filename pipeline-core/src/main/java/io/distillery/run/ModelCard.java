package io.distillery.run;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.distillery.provenance.ComputeBackend;
import io.distillery.provenance.TeacherIdentity;
import io.distillery.settings.Settings;
import io.distillery.settings.SignOff;
import io.distillery.settings.TaskKind;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;

/**
 * The trained student's card (models/RUN/model-card.json): what it is, the teacher and terms it learnt from, the
 * datasets (by their manifests' hashes and counts), how it trained, and the ablations beside it.
 *
 * @param studentInputs what turns a text into the student's input, as the task's student recipe records it
 * @param purpose what the student is for, as the run declared it (purpose.description)
 * @param signOff who signed off training it although the teacher's terms do not allow it, and why (null: not needed)
 * @param tainted the purges that removed rows it learnt from (written by distillery purge; empty when trained)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record ModelCard(
    String runId,
    TaskKind task,
    String createdAt,
    String codeVersion,
    StudentRecord student,
    String modelSha256,
    long modelBytes,
    TeacherIdentity teacher,
    Datasets datasets,
    Training training,
    Object studentInputs,
    int chosenEpoch,
    Map<String, AblationRecord> ablations,
    String purpose,
    SignOff signOff,
    List<Taint> tainted) {

  /** The student's settings and size. */
  public record StudentRecord(Settings.Student settings, long parameters) {}

  /** How it was trained: the trainer, its workers, the train settings and every epoch. */
  public record Training(String trainer, int workers, Settings.Train settings, List<ComputeBackend> backends,
      List<EpochRecord> epochs) {}

  /** The datasets a student learnt from: the ingest and generate manifests' hashes and row counts. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record Datasets(String ingestManifestHash, Map<String, Long> ingestCounts, String generateManifestHash,
      Map<String, Long> generateCounts) {
    public static Datasets of(StageManifest ingest, StageManifest generate) {
      return new Datasets(ingest.hash(), ingest.counts(), generate.hash(), generate.counts());
    }
  }

  public byte[] toJson() {
    try {
      return StageManifest.json().writeValueAsBytes(this);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
