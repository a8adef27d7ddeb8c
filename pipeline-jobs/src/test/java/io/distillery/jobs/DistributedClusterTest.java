package io.distillery.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.distillery.jobs.pipeline.Pipeline;
import io.distillery.jobs.spark.HadoopFiles;
import io.distillery.run.RunLayout;
import io.distillery.run.Stage;
import io.distillery.run.StageManifest;
import io.distillery.settings.Settings;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pipeline on a multi-JVM Spark standalone cluster (a Master and two Workers on 127.0.0.1): the teacher
 * fans out over both executors (one teacher per executor JVM), and the student trains with parameter
 * averaging across them.
 */
class DistributedClusterTest {
  @TempDir
  Path dir;

  @Test
  void thePipelineRunsAcrossTwoExecutorJvms() throws Exception {
    SparkSession.getDefaultSession().foreach(s -> {
      s.stop();
      return null;
    });
    SparkSession.clearActiveSession();
    SparkSession.clearDefaultSession();
    try (StandaloneCluster cluster = StandaloneCluster.start(dir, 2, 2048)) {
      Map<String, String> o = TestRuns.small(dir.resolve("out"), "cluster");
      o.put("distillery.corpus.max-documents", "800");
      o.put("distillery.train.workers", "2");
      Settings settings = TestRuns.settings(o);
      SparkSession spark = SparkSession.builder()
          .master(cluster.masterUrl())
          .appName("distillery-cluster-test")
          .config("spark.driver.host", "127.0.0.1")
          .config("spark.driver.bindAddress", "127.0.0.1")
          .config("spark.executor.cores", "1")
          .config("spark.cores.max", "2")
          .config("spark.executor.memory", "1536m")
          .config("spark.executor.extraClassPath", cluster.classpath())
          .config("spark.executor.extraJavaOptions", String.join(" ", TestJvms.flags()))
          .config("spark.sql.shuffle.partitions", "2")
          .config("spark.ui.enabled", "false")
          .getOrCreate();
      Set<String> executorsThatRanTasks = ConcurrentHashMap.newKeySet();
      spark.sparkContext().addSparkListener(new SparkListener() {
        @Override
        public void onTaskEnd(SparkListenerTaskEnd end) {
          executorsThatRanTasks.add(end.taskInfo().executorId());
        }
      });
      try {
        Map<Stage, StageManifest> done = Pipeline.runAll(settings, spark);
        assertEquals(2, executorsThatRanTasks.size(), "tasks ran on " + executorsThatRanTasks);
        assertTrue(executorsThatRanTasks.stream().noneMatch("driver"::equals), executorsThatRanTasks.toString());

        Map<String, Long> generate = done.get(Stage.GENERATE).counts();
        assertEquals(generate.get("rows_in"), generate.get("written") + generate.get("failed"));
        assertEquals(done.get(Stage.INGEST).counts().get("written"), generate.get("rows_in"));

        RunLayout layout = RunLayout.of(settings.run());
        JsonNode card = StageManifest.json().readTree(HadoopFiles.read(spark, layout.modelCard()));
        assertEquals(2, card.at("/training/workers").asInt());
        JsonNode epochs = card.at("/training/epochs");
        assertTrue(epochs.get(2).get("validation_loss").asDouble() < epochs.get(0).get("validation_loss").asDouble(),
            "parameter averaging across two executors lowered the validation loss: " + epochs);
        assertTrue(done.get(Stage.EVALUATE).counts().get("held_out_rows") > 0);
      } finally {
        spark.stop();
      }
    }
  }
}
