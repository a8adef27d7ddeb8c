package io.distillery.corpus;

import java.io.Serializable;

/**
 * One outcome of preparing a corpus document: a sentence that becomes a prompt, a sentence sent to
 * quarantine with its reason, or a whole document skipped because its language is not served.
 */
public record PromptCandidate(Status status, String rowId, String text, String language, String reason)
    implements Serializable {

  /** PROMPT: a corpus sentence; SPAN: a training-only window of one (see {@link Spans}). */
  public enum Status { PROMPT, SPAN, QUARANTINED, OTHER_LANGUAGE }

  /** Why a sentence went to quarantine. */
  public enum Reason { EMPTY, TOO_SHORT, TOO_LONG, UNDECODABLE, CONTROL_CHARACTERS }
}
