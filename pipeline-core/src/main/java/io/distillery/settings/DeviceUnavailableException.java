package io.distillery.settings;

/** A run configured for GPUs (train.device, teacher.device) found none where it must run: exit 2, as for bad usage. */
public final class DeviceUnavailableException extends IllegalStateException {
  public DeviceUnavailableException(String message) {
    super(message);
  }
}
