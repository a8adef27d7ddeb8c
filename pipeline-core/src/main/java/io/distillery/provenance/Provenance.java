package io.distillery.provenance;

/**
 * Where an answer came from, recorded on its row: the teacher, the request, how long it took, what the server said
 * about it (remote teachers) and whether it was read from the response cache.
 *
 * @param requestHash identifies the request: teacher, parameters and input (remote: the response cache's key)
 * @param servedModel the model that answered as the server reported it (in-process: the teacher's name)
 * @param systemFingerprint the server's system_fingerprint, null if none
 * @param promptTokens input tokens the server counted, null for in-process teachers
 * @param completionTokens output tokens the server counted, null for in-process teachers
 * @param createdAtMillis when the teacher answered (for a cached answer: when it first did)
 */
public record Provenance(TeacherIdentity teacher, String requestHash, double latencyMs, String servedModel,
    String systemFingerprint, Long promptTokens, Long completionTokens, boolean fromCache, long createdAtMillis) {

  /** An in-process teacher's answer, now. */
  public static Provenance inProcess(TeacherIdentity teacher, String requestHash, double latencyMs) {
    return new Provenance(teacher, requestHash, latencyMs, teacher.name(), null, null, null, false,
        System.currentTimeMillis());
  }

  /** The same provenance with the tokens the teacher counted. */
  public Provenance withUsage(long prompt, long completion) {
    return new Provenance(teacher, requestHash, latencyMs, servedModel, systemFingerprint, prompt, completion,
        fromCache, createdAtMillis);
  }
}
