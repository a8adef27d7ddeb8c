package io.distillery.jobs.task;

import io.distillery.teacher.http.OpenAiProtocol;
import java.io.Serializable;

/**
 * Executor side: the request a remote teacher is sent for one prompt. Its key in the response cache is the request's
 * ({@link OpenAiProtocol#requestKey}), so whatever shapes the request (a sample's seed) makes a new key.
 */
@FunctionalInterface
public interface RemoteRequests extends Serializable {
  OpenAiProtocol.Request of(Prompt prompt);

  /** The prompt's text, nothing more: a label distribution or an embedding is asked for once per prompt. */
  record Text() implements RemoteRequests {
    @Override
    public OpenAiProtocol.Request of(Prompt prompt) {
      return OpenAiProtocol.Request.of(prompt.text());
    }
  }
}
