package io.distillery.jobs.task;

import io.distillery.jobs.stage.StageContext;
import io.distillery.run.StageManifest;
import io.distillery.settings.Settings;
import io.distillery.teacher.LanguageModelTeacher;
import java.io.Serializable;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;
import org.slf4j.LoggerFactory;

/**
 * A task's part of the train stage: the initial student, how the teacher's answers become its training examples,
 * and the student's file. Typed on {@code I}, what turns a row into the student's input (a vocabulary, an n-gram
 * spec and labels): the plan makes it on the driver, the examples' executor functions capture it.
 */
public interface StudentRecipe<I extends Serializable> {
  /** The ablation trained on hard labels only (soft-label weight 0), for students with a distillation loss. */
  String HARD_LABELS = "hard-labels";


  /** The initial student and its inputs, built on the driver from what generate wrote. */
  StudentPlan<I> plan(StageContext ctx, StageManifest generate);

  /** Training examples, one per row of the teacher's answers. */
  JavaRDD<DataSet> examples(Settings settings, Dataset<Row> outputs, I inputs);

  /** The trained student as one self-contained file. */
  byte[] artifact(I inputs, MultiLayerNetwork trained);

  /**
   * Students trained beside the main one on the same examples, for comparison in the report, by name: each is the
   * run's settings with something changed (e.g. "hard-labels": the soft-label weight set to 0). Most tasks have
   * none.
   */
  default Map<String, Settings> ablations(Settings settings) {
    return Map.of();
  }

  /**
   * The trained student (a student file's bytes) as a language model {@code serve-teacher --student} can serve on
   * the teacher's endpoints; empty for students that are not language models.
   */
  default Optional<LanguageModelTeacher> servable(byte[] artifact, Settings settings) {
    return Optional.empty();
  }

  /**
   * {@link #HARD_LABELS} when train.hard-label-ablation asks for it and the student itself learns from soft labels:
   * Hinton et al. 2015's comparison, for the recipes whose loss mixes the two.
   */
  static Map<String, Settings> hardLabelAblation(Settings settings) {
    if (!settings.train().hardLabelAblation()) {
      return Map.of();
    }
    if (settings.train().loss().softLabelWeight() == 0) {
      LoggerFactory.getLogger(StudentRecipe.class).info("{}: the student itself is trained on hard labels only; "
          + "no ablation", Settings.Train.HARD_LABEL_ABLATION.path());
      return Map.of();
    }
    return Map.of(HARD_LABELS, settings.withTrain(settings.train().withLoss(
        settings.train().loss().withSoftLabelWeight(0))));
  }
}
