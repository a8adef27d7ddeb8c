package io.distillery.jobs.stage;

import io.distillery.run.Stage;
import io.distillery.run.StageManifest;
import java.util.Map;

/** One pipeline stage as a Spark job. {@link Stages} decides whether it runs or its last output is reused. */
public interface StageJob {
  Stage stage();

  /**
   * Does the stage's work for the context's run and reports what it produced.
   *
   * @param upstream the manifests of the stages it reads, keyed by stage
   */
  StageResult run(StageContext ctx, Map<Stage, StageManifest> upstream);
}
