package io.distillery.teacher.http;

import java.io.IOException;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeoutException;

/**
 * A remote teacher's request failed: an HTTP error status, a malformed body, a timeout or a broken connection.
 * {@link #retryable()} says whether asking again may succeed (408, 409, 429, 5xx, timeouts, resets, truncated or
 * non-JSON bodies) or not (any other 4xx, an answer the task cannot read).
 */
public final class TeacherHttpException extends RuntimeException {
  /** The status of a failure that never got an HTTP response (timeout, connection reset). */
  public static final int NO_STATUS = 0;

  private final int status;
  private final boolean retryable;
  private final Duration retryAfter; // null: none asked for

  public TeacherHttpException(int status, boolean retryable, Duration retryAfter, String message, Throwable cause) {
    super(message, cause);
    this.status = status;
    this.retryable = retryable;
    this.retryAfter = retryAfter;
  }

  /** Whether a response with {@code status} is worth another attempt. */
  public static boolean retryableStatus(int status) {
    return status == 408 || status == 409 || status == 429 || status >= 500;
  }

  public int status() {
    return status;
  }

  public boolean retryable() {
    return retryable;
  }

  /** The delay the server asked for (Retry-After), if any. */
  public Optional<Duration> retryAfter() {
    return Optional.ofNullable(retryAfter);
  }

  /** A short error class for the failures dataset: http_429, http_500, timeout, connection, malformed, ... */
  public String errorClass() {
    if (status >= 400) {
      return "http_" + status;
    }
    Throwable c = getCause();
    if (c instanceof HttpTimeoutException || c instanceof TimeoutException) {
      return "timeout";
    }
    if (c instanceof IOException) {
      return "connection";
    }
    return retryable ? "malformed_response" : "unreadable_answer";
  }
}
