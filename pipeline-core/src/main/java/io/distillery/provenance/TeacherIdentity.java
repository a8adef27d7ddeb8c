package io.distillery.provenance;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.distillery.settings.Settings;
import io.distillery.settings.StudentUse;
import java.io.Serializable;
import java.util.List;

/**
 * Who answered: recorded on every teacher-output row, in every dataset manifest and every model card.
 *
 * @param name human name of the teacher model
 * @param version model version as configured
 * @param artifact where the model file came from (a remote teacher: its endpoint and model)
 * @param modelSha256 sha256 of the model file's bytes ("" for a remote teacher, whose weights are not visible)
 * @param termsId licence or terms the outputs come under
 * @param termsUrl where those terms are published
 * @param termsVersion their version or date ("" if none)
 * @param distillationAllowed whether those terms allow training another model on the outputs
 * @param allowedStudents the kinds of model they allow the outputs to train (null in manifests written before
 *     Distillery recorded it: then only distillationAllowed is known)
 * @param competingAllowed whether such a model may compete with the teacher's provider (null in those manifests)
 */
@JsonInclude(JsonInclude.Include.NON_NULL) // records written before the clauses existed hash as they did
public record TeacherIdentity(
    String name,
    String version,
    String artifact,
    String modelSha256,
    String termsId,
    String termsUrl,
    String termsVersion,
    boolean distillationAllowed,
    List<StudentUse> allowedStudents,
    Boolean competingAllowed) implements Serializable {

  /** A teacher (or a student that answers as one) under {@code terms}. */
  public static TeacherIdentity of(String name, String version, String artifact, String modelSha256,
      Settings.Terms terms) {
    return new TeacherIdentity(name, version, artifact, modelSha256, terms.id(), terms.url(), terms.version(),
        terms.distillationAllowed(), terms.students(), terms.competingAllowed());
  }

  /** An in-process teacher, from the model file it loaded. */
  public static TeacherIdentity of(Settings.Teacher spec, String modelSha256) {
    return of(spec.name(), spec.version(), spec.model(), modelSha256, spec.terms());
  }

  /** The terms as recorded here. */
  @JsonIgnore
  public Settings.Terms terms() {
    return new Settings.Terms(termsId, termsUrl, termsVersion == null ? "" : termsVersion, distillationAllowed,
        allowedStudents == null ? List.of(StudentUse.values()) : allowedStudents,
        competingAllowed == null || competingAllowed);
  }

  /**
   * A remote teacher: its configured name and version, the endpoint and model as the artifact, no model file hash
   * (the rows' served_model and system_fingerprint say what answered).
   */
  public static TeacherIdentity remote(Settings.Teacher spec) {
    String path = spec.kind().path().orElseThrow(() -> new IllegalArgumentException(
        Settings.Teacher.KIND.is(spec.kind()) + " is not a remote teacher"));
    return of(spec.name(), spec.version(), spec.http().baseUrl() + path + " model=" + spec.model(), "", spec.terms());
  }

  /** One line for reports: name, version, the model file's hash (or the remote artifact) and the terms. */
  public String describe() {
    String model = modelSha256.isEmpty() ? "remote: " + artifact
        : "sha256 " + modelSha256.substring(0, Math.min(12, modelSha256.length()));
    return name + " " + version + " (" + model + ", terms " + termsId + ")";
  }
}
