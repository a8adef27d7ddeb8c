package io.distillery.jobs.spark;

import io.distillery.student.Backends;
import io.distillery.util.AssignedGpus;
import java.util.List;
import java.util.Map;
import org.apache.spark.TaskContext;
import org.apache.spark.TaskFailedReason;
import org.apache.spark.api.plugin.DriverPlugin;
import org.apache.spark.api.plugin.ExecutorPlugin;
import org.apache.spark.api.plugin.PluginContext;
import org.apache.spark.api.plugin.SparkPlugin;
import org.apache.spark.resource.ResourceInformation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts each executor's work on the GPUs Spark assigned it ({@code spark.executor.resource.gpu.*}). DL4J's training
 * workers allocate on their task thread before any of Distillery's code runs there, so the binding happens in
 * {@link ExecutorPlugin#onTaskStart}, which Spark calls on the task's thread before the task: ND4J's CUDA backend
 * is pointed at the task's GPU, and {@link AssignedGpus} tells the ONNX teacher which device to open its session on.
 * Executors without GPU resources, and the CPU build, do nothing here.
 */
public final class GpuPlugin implements SparkPlugin {
  static final String RESOURCE = "gpu";

  @Override
  public DriverPlugin driverPlugin() {
    return null;
  }

  @Override
  public ExecutorPlugin executorPlugin() {
    return new Executor();
  }

  /** The plugin's executor side: one per executor JVM. */
  static final class Executor implements ExecutorPlugin {
    private static final Logger LOG = LoggerFactory.getLogger(GpuPlugin.class);
    private List<String> addresses = List.of();
    private boolean cuda;

    @Override
    public void init(PluginContext ctx, Map<String, String> extraConf) {
      ResourceInformation gpu = ctx.resources().get(RESOURCE);
      if (gpu == null || gpu.addresses().length == 0) {
        return;
      }
      addresses = List.of(gpu.addresses());
      AssignedGpus.setExecutor(addresses);
      cuda = Backends.cudaBuild();
      LOG.info("Executor {} was assigned GPUs {}: {}", ctx.executorID(), addresses, cuda
          ? "each task's ND4J runs on its task's GPU, the ONNX teacher on GPU " + AssignedGpus.sessionDevice()
          : "this build has ND4J's CPU backend, which uses none");
    }

    @Override
    public void onTaskStart() {
      if (addresses.isEmpty()) {
        return;
      }
      int ordinal = AssignedGpus.ordinal(taskAddress(TaskContext.get(), addresses));
      AssignedGpus.setTask(ordinal);
      if (cuda) {
        Backends.bindCurrentThread(ordinal);
      }
    }

    @Override
    public void onTaskSucceeded() {
      AssignedGpus.clearTask();
    }

    @Override
    public void onTaskFailed(TaskFailedReason reason) {
      AssignedGpus.clearTask();
    }
  }

  /** The task's first assigned GPU; the executor's first when the task asked for none (no task amount set). */
  static String taskAddress(TaskContext task, List<String> executorAddresses) {
    ResourceInformation gpu = task == null ? null : task.resourcesJMap().get(RESOURCE);
    return gpu != null && gpu.addresses().length > 0 ? gpu.addresses()[0] : executorAddresses.get(0);
  }
}
