package io.distillery.settings;

/** What the student trains on (train.device.kind): ND4J's CPU backend, or its CUDA backend on a GPU. */
public enum DeviceKind implements Named {
  CPU,
  GPU;

  @Override
  public String toString() {
    return configName();
  }
}
