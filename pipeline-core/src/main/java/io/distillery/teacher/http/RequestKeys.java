package io.distillery.teacher.http;

import io.distillery.settings.Settings;
import io.distillery.util.Hashing;
import java.io.Serializable;

/**
 * The response cache's key of a request: the content hash of the endpoint, the canonical body with an empty input
 * (model and parameters) and the input. Equal requests have equal keys in every run, so a later run reuses an
 * earlier one's answers; a change to the model or any parameter is a new key.
 */
public final class RequestKeys implements Serializable {
  private final String request;

  private RequestKeys(String request) {
    this.request = request;
  }

  public static RequestKeys of(Settings.Teacher spec) {
    return new RequestKeys(spec.http().baseUrl() + OpenAiProtocol.path(spec) + '\u0000'
        + OpenAiProtocol.requestBody(spec, "") + '\u0000');
  }

  /** The key of the request that asks about {@code text}. */
  public String key(String text) {
    return Hashing.sha256Hex(request + text);
  }
}
