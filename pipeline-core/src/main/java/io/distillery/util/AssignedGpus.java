package io.distillery.util;

import java.util.List;
import java.util.OptionalInt;

/**
 * The GPUs the cluster's scheduler assigned to this executor JVM, and the one assigned to the task on this thread:
 * what ND4J and ONNX Runtime run on. The jobs' executor plugin sets both (from Spark's resource scheduling); outside
 * an executor with GPU resources both are empty and CUDA's default device (0) is used.
 */
public final class AssignedGpus {
  private static volatile List<String> executor = List.of();
  private static final ThreadLocal<Integer> TASK = new ThreadLocal<>();

  private AssignedGpus() {}

  /** The GPU addresses of this executor, as its discovery script reported them. */
  public static List<String> executor() {
    return executor;
  }

  public static void setExecutor(List<String> addresses) {
    for (String a : addresses) {
      ordinal(a);
    }
    executor = List.copyOf(addresses);
  }

  /** The CUDA device of the task running on this thread, if the scheduler assigned it one. */
  public static OptionalInt task() {
    Integer t = TASK.get();
    return t == null ? OptionalInt.empty() : OptionalInt.of(t);
  }

  public static void setTask(int ordinal) {
    TASK.set(ordinal);
  }

  public static void clearTask() {
    TASK.remove();
  }

  /**
   * The device a JVM-wide resource (one ONNX Runtime session shared by an executor's tasks) opens on: the
   * executor's first GPU, else CUDA's default device.
   */
  public static int sessionDevice() {
    List<String> e = executor;
    return e.isEmpty() ? 0 : ordinal(e.get(0));
  }

  /**
   * A GPU address as a CUDA device ordinal.
   *
   * @throws IllegalArgumentException an address that is not one (the discovery script printed something else)
   */
  public static int ordinal(String address) {
    try {
      int ordinal = Integer.parseInt(address.trim());
      if (ordinal >= 0) {
        return ordinal;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException("GPU address '" + address + "' is not a CUDA device index: the discovery "
        + "script must print the indices nvidia-smi --query-gpu=index lists (deploy/gpu-discovery.sh does)");
  }
}
