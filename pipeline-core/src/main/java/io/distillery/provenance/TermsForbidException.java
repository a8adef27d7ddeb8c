package io.distillery.provenance;

/** The teacher's terms forbid this run (the CLI's exit code 4). */
public final class TermsForbidException extends IllegalStateException {
  public TermsForbidException(String message) {
    super(message);
  }
}
