package io.distillery.provenance;

import io.distillery.settings.Settings;
import java.io.Serializable;

/**
 * Who answered: recorded on every teacher-output row, in every dataset manifest and every model card.
 *
 * @param name human name of the teacher model
 * @param version model version as configured
 * @param artifact where the model file came from (a remote teacher: its endpoint and model)
 * @param modelSha256 sha256 of the model file's bytes ("" for a remote teacher, whose weights are not visible)
 * @param termsId licence or terms the outputs come under
 * @param termsUrl where those terms are published
 * @param distillationAllowed whether those terms allow training another model on the outputs
 */
public record TeacherIdentity(
    String name,
    String version,
    String artifact,
    String modelSha256,
    String termsId,
    String termsUrl,
    boolean distillationAllowed) implements Serializable {

  /** An in-process teacher, from the model file it loaded. */
  public static TeacherIdentity of(Settings.Teacher spec, String modelSha256) {
    return new TeacherIdentity(spec.name(), spec.version(), spec.model(), modelSha256, spec.terms().id(),
        spec.terms().url(), spec.terms().distillationAllowed());
  }

  /**
   * A remote teacher: its configured name and version, the endpoint and model as the artifact, no model file hash
   * (the rows' served_model and system_fingerprint say what answered).
   */
  public static TeacherIdentity remote(Settings.Teacher spec) {
    String path = spec.kind().path().orElseThrow(() -> new IllegalArgumentException(
        Settings.Teacher.KIND.is(spec.kind()) + " is not a remote teacher"));
    return new TeacherIdentity(spec.name(), spec.version(), spec.http().baseUrl() + path + " model=" + spec.model(),
        "", spec.terms().id(), spec.terms().url(), spec.terms().distillationAllowed());
  }

  /** One line for reports: name, version, the model file's hash (or the remote artifact) and the terms. */
  public String describe() {
    String model = modelSha256.isEmpty() ? "remote: " + artifact
        : "sha256 " + modelSha256.substring(0, Math.min(12, modelSha256.length()));
    return name + " " + version + " (" + model + ", terms " + termsId + ")";
  }

  /** Throws if the teacher's terms forbid distillation: the run is refused before any work is done. */
  public static void requireDistillationAllowed(Settings.Teacher spec, String stage) {
    if (!spec.terms().distillationAllowed()) {
      throw new TermsForbidException("Refusing to run " + stage + ": the terms of teacher '" + spec.name()
          + "' (" + spec.terms().id() + ", " + spec.terms().url() + ") forbid distillation ("
          + Settings.Terms.DISTILLATION.full() + " = forbidden).");
    }
  }
}
