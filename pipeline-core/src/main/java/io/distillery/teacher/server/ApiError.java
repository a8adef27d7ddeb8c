package io.distillery.teacher.server;

/** A request the server refuses, as an OpenAI-style error: HTTP status, error type and code, and a message. */
final class ApiError extends RuntimeException {
  final int status;
  final String type;
  final String code;

  ApiError(int status, String type, String code, String message) {
    super(message);
    this.status = status;
    this.type = type;
    this.code = code;
  }

  static ApiError badRequest(String message) {
    return new ApiError(400, "invalid_request_error", null, message);
  }
}
