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
 * @param gpus the CUDA devices ND4J sees, by name (none on the CPU backend)
 * @param usedGpu whether this JVM trains on a GPU
 * @param assignedGpus the GPU addresses Spark's scheduler assigned to the task that reported this (none outside
 *     Spark tasks, or without spark.task.resource.gpu.amount)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record ComputeBackend(String where, String backend, List<String> gpus, boolean usedGpu,
    List<String> assignedGpus)
    implements Serializable {}
