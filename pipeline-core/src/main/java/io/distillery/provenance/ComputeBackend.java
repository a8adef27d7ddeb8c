package io.distillery.provenance;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.io.Serializable;
import java.util.List;

/**
 * The ND4J backend a JVM loaded and the GPUs it sees: what trained a student, as its model card records it
 * ({@code student.Backends} finds and checks it).
 *
 * @param where the JVM ("driver", "executor 3 on host-a")
 * @param backend ND4J's backend class (CpuBackend, JCublasBackend)
 * @param gpus the CUDA devices ND4J sees (none on the CPU backend)
 * @param usedGpu whether this JVM trains on a GPU
 * @param assignedGpus the GPU addresses Spark's scheduler assigned to the task that reported this (none outside
 *     Spark tasks, or without spark.task.resource.gpu.amount)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record ComputeBackend(String where, String backend, List<Gpu> gpus, boolean usedGpu,
    List<String> assignedGpus)
    implements Serializable {

  /**
   * A CUDA device.
   *
   * @param name as CUDA reports it ("NVIDIA A100-SXM4-80GB")
   * @param computeCapability major.minor ("8.0"), which decides what machine code runs on it
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record Gpu(String name, String computeCapability) implements Serializable {
    /** The capability as major * 10 + minor (8.6 is 86), as CUDA's sm_86 names it; -1 if unknown. */
    public int sm() {
      String[] parts = computeCapability.split("\\.");
      try {
        return Integer.parseInt(parts[0]) * 10 + (parts.length > 1 ? Integer.parseInt(parts[1]) : 0);
      } catch (NumberFormatException e) {
        return -1;
      }
    }
  }
}
