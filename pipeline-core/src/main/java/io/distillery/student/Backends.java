package io.distillery.student;

import io.distillery.provenance.ComputeBackend;
import io.distillery.settings.DeviceKind;
import io.distillery.settings.DeviceUnavailableException;
import io.distillery.settings.Settings;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.nd4j.linalg.api.concurrency.AffinityManager;
import org.nd4j.linalg.api.environment.Nd4jEnvironment;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Which ND4J backend and GPUs a JVM trains on, checked against {@code train.device}. */
public final class Backends {
  private static final Logger LOG = LoggerFactory.getLogger(Backends.class);
  private static final String CUDA_BACKEND = "org.nd4j.linalg.jcublas.JCublasBackend";
  // What nd4j-cuda-11.6 1.0.0-M2.1's libnd4jcuda.so has SASS for (sm_37 to sm_86) with no PTX to JIT from, so GPUs
  // of a later major version (Hopper's 9.0) cannot launch its kernels: bench/cuda-archs.sh.
  private static final int CUDA_BUILD_MIN_SM = 37;
  private static final int CUDA_BUILD_MAX_SM = 86;

  private Backends() {}

  /** Whether this build has ND4J's CUDA backend (without loading ND4J). */
  public static boolean cudaBuild() {
    try {
      Class.forName(CUDA_BACKEND, false, Backends.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException e) {
      return false;
    }
  }

  /**
   * Makes ND4J on this thread run on CUDA device {@code ordinal} (a Spark task's assigned GPU, before the task
   * allocates anything: arrays made earlier stay where they are).
   *
   * @throws DeviceUnavailableException ND4J sees no such device
   */
  public static void bindCurrentThread(int ordinal) {
    AffinityManager affinity = Nd4j.getAffinityManager();
    int devices = affinity.getNumberOfDevices();
    if (ordinal >= devices) {
      throw new DeviceUnavailableException("The scheduler assigned GPU " + ordinal + ", but ND4J sees " + devices
          + " CUDA device(s) here: the discovery script and CUDA disagree (check CUDA_VISIBLE_DEVICES, and "
          + "CUDA_DEVICE_ORDER=PCI_BUS_ID so CUDA numbers devices as nvidia-smi does)");
    }
    affinity.unsafeSetDevice(ordinal);
    LOG.debug("ND4J on thread {} bound to GPU {}", Thread.currentThread().getName(), ordinal);
  }

  /** This JVM's backend (loading ND4J if it was not yet). */
  public static ComputeBackend current(String where) {
    return current(where, List.of());
  }

  /** This JVM's backend, as a Spark task to which the scheduler assigned {@code assignedGpus} reports it. */
  public static ComputeBackend current(String where, List<String> assignedGpus) {
    String backend = Nd4j.getBackend().getClass().getSimpleName();
    List<ComputeBackend.Gpu> gpus = new ArrayList<>();
    Properties env = Nd4j.getExecutioner().getEnvironmentInformation();
    if (env.get(Nd4jEnvironment.CUDA_DEVICE_INFORMATION_KEY) instanceof List<?> devices) {
      for (Object d : devices) {
        Map<?, ?> m = d instanceof Map<?, ?> map ? map : Map.of();
        Object name = m.get(Nd4jEnvironment.CUDA_DEVICE_NAME_KEY);
        gpus.add(new ComputeBackend.Gpu(String.valueOf(name == null ? d : name),
            m.get(Nd4jEnvironment.CUDA_DEVICE_MAJOR_VERSION_KEY) + "."
                + m.get(Nd4jEnvironment.CUDA_DEVICE_MINOR_VERSION_KEY)));
      }
    }
    return new ComputeBackend(where, backend, List.copyOf(gpus), !gpus.isEmpty(), List.copyOf(assignedGpus));
  }

  /**
   * This JVM's backend, checked against {@code train.device}: a run set to GPUs that finds none stops here with what
   * it found, unless it may fall back to the CPU, which it then says.
   *
   * @throws DeviceUnavailableException kind gpu, no GPU, no fallback
   */
  public static ComputeBackend check(Settings.Device device, String where) {
    return check(device, current(where));
  }

  /**
   * {@link #check(Settings.Device, String)} of a backend another JVM reported.
   *
   * @throws DeviceUnavailableException also for a GPU that ND4J's CUDA build has no kernels for, whatever the kind
   */
  public static ComputeBackend check(Settings.Device device, ComputeBackend found) {
    String where = found.where();
    for (ComputeBackend.Gpu gpu : found.usedGpu() ? found.gpus() : List.<ComputeBackend.Gpu>of()) {
      if (gpu.sm() >= 0 && (gpu.sm() < CUDA_BUILD_MIN_SM || gpu.sm() / 10 > CUDA_BUILD_MAX_SM / 10)) {
        throw new DeviceUnavailableException("ND4J on the " + where + " found " + gpu.name() + " (compute "
            + "capability " + gpu.computeCapability() + "), which its CUDA build has no kernels for: nd4j-cuda-11.6 "
            + "1.0.0-M2.1 carries machine code for compute capabilities 3.7 to 8.6 and no PTX (bench/cuda-archs.sh "
            + "reads it from the jar). Train on GPUs of those generations, or on the CPU (the build without -Pcuda).");
      }
    }
    if (device.kind() == DeviceKind.GPU && !found.usedGpu()) {
      String what = Settings.Train.DEVICE_KIND.is(device.kind()) + ", but ND4J on the " + where + " loaded "
          + found.backend() + (found.backend().startsWith("Cpu") ? " (this is the CPU build; build with -Pcuda)"
          : " and sees no GPU (check the NVIDIA driver, CUDA 11.6 and CUDA_VISIBLE_DEVICES)");
      if (!device.cpuFallback()) {
        throw new DeviceUnavailableException(what + ". To train on the CPU instead, set "
            + Settings.Train.DEVICE_CPU_FALLBACK.is(true) + ".");
      }
      LOG.warn("{}: training on the CPU ({})", what, Settings.Train.DEVICE_CPU_FALLBACK.is(true));
    } else if (device.kind() == DeviceKind.CPU && found.usedGpu()) {
      LOG.info("{}; ND4J on the {} loaded {} with GPUs {}: this build trains on them", Settings.Train.DEVICE_KIND
          .is(device.kind()), where, found.backend(), found.gpus());
    }
    return found;
  }
}
