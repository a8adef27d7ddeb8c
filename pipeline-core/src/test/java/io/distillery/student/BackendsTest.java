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
    ComputeBackend a100 = new ComputeBackend("executor 2 on host-b", "JCublasBackend",
        List.of(new ComputeBackend.Gpu("NVIDIA A100-SXM4-80GB", "8.0")), true, List.of("0"));
    assertEquals(a100, Backends.check(new Settings.Device(DeviceKind.GPU, false), a100));
  }

  /** ND4J's CUDA build has SASS up to sm_86 and no PTX: a Hopper GPU is refused before training, by name. */
  @Test
  void aGpuTheCudaBuildHasNoKernelsForIsRefusedWhateverTheDeviceKind() {
    ComputeBackend h200 = new ComputeBackend("executor 2 on host-b", "JCublasBackend",
        List.of(new ComputeBackend.Gpu("NVIDIA H200", "9.0")), true, List.of("0"));
    for (DeviceKind kind : DeviceKind.values()) {
      var e = assertThrows(DeviceUnavailableException.class,
          () -> Backends.check(new Settings.Device(kind, true), h200));
      assertTrue(e.getMessage().startsWith("ND4J on the executor 2 on host-b found NVIDIA H200 (compute capability "
          + "9.0), which its CUDA build has no kernels for"), e.getMessage());
    }
    ComputeBackend ada = new ComputeBackend("driver", "JCublasBackend",
        List.of(new ComputeBackend.Gpu("NVIDIA L4", "8.9")), true, List.of());
    assertEquals(ada, Backends.check(new Settings.Device(DeviceKind.GPU, false), ada), "sm_86 SASS runs on 8.9");
    assertEquals(90, h200.gpus().get(0).sm());
  }
}
