package io.distillery.student;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.distillery.provenance.ComputeBackend;
import io.distillery.settings.DeviceKind;
import io.distillery.settings.DeviceUnavailableException;
import io.distillery.settings.Settings;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The backend check on this (CPU) machine: what a run set to GPUs does when it finds none. */
class BackendsTest {
  @Test
  void thisBuildTrainsOnNd4jsCpuBackendAndSeesNoGpu() {
    ComputeBackend here = Backends.current("driver");
    assertEquals("CpuBackend", here.backend());
    assertEquals(List.of(), here.gpus());
    assertFalse(here.usedGpu());
    assertEquals(here, Backends.check(new Settings.Device(DeviceKind.CPU, false), "driver"));
  }

  @Test
  void aRunSetToGpusThatFindsNoneStopsNamingWhatItFoundUnlessItMayFallBack() {
    var e = assertThrows(DeviceUnavailableException.class,
        () -> Backends.check(new Settings.Device(DeviceKind.GPU, false), "driver"));
    assertTrue(e.getMessage().startsWith("train.device.kind = gpu, but ND4J on the driver loaded CpuBackend (this "
        + "is the CPU build; build with -Pcuda)"), e.getMessage());
    assertTrue(e.getMessage().contains("set train.device.cpu-fallback = true"), e.getMessage());

    ComputeBackend fallback = Backends.check(new Settings.Device(DeviceKind.GPU, true), "driver");
    assertFalse(fallback.usedGpu(), "trained on the CPU, and the record says so");

    ComputeBackend cudaWithoutDevices = new ComputeBackend("executor 1 on host-a", "JCublasBackend", List.of(), false,
        List.of("0"));
    var noDevice = assertThrows(DeviceUnavailableException.class,
        () -> Backends.check(new Settings.Device(DeviceKind.GPU, false), cudaWithoutDevices));
    assertTrue(noDevice.getMessage().contains("on the executor 1 on host-a loaded JCublasBackend and sees no GPU"),
        noDevice.getMessage());
    ComputeBackend h200 = new ComputeBackend("executor 2 on host-b", "JCublasBackend", List.of("NVIDIA H200"), true,
        List.of("0"));
    assertEquals(h200, Backends.check(new Settings.Device(DeviceKind.GPU, false), h200));
  }
}
