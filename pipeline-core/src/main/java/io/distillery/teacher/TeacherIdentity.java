package io.distillery.teacher;

import io.distillery.settings.Settings;
import java.io.Serializable;

/**
 * Who answered: recorded on every teacher-output row, in every dataset manifest and every model card.
 *
 * @param name human name of the teacher model
 * @param version model version as configured
 * @param artifact where the model file came from
 * @param modelSha256 sha256 of the model file's bytes
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

  public static TeacherIdentity of(Settings.Teacher spec, String modelSha256) {
    return new TeacherIdentity(spec.name(), spec.version(), spec.model(), modelSha256, spec.terms().id(),
        spec.terms().url(), spec.terms().distillationAllowed());
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
          + "' (" + spec.terms().id() + ", " + spec.terms().url() + ") forbid distillation "
          + "(distillery.teacher.terms.distillation = forbidden).");
    }
  }

  /** The teacher's terms forbid this run. */
  public static final class TermsForbidException extends IllegalStateException {
    public TermsForbidException(String message) {
      super(message);
    }
  }
}
