package io.distillery.jobs.task.classify;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.jobs.spark.Iterators;
import io.distillery.jobs.stage.StageContext;
import io.distillery.jobs.task.StudentPlan;
import io.distillery.jobs.task.StudentRecipe;
import io.distillery.run.StageManifest;
import io.distillery.settings.Settings;
import io.distillery.student.CharNgramClassifier;
import io.distillery.student.ClassifierInputs;
import io.distillery.student.StudentArtifact;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;

/**
 * The classify student: hashed character n-grams into a small MLP over the teacher's labels, trained on the
 * teacher's softened distribution and a hard label; with train.hard-label-ablation, the same student on hard labels
 * only beside it.
 */
final class ClassifyStudent implements StudentRecipe<ClassifierInputs> {
  /** The student's inputs as the model card records them. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  record Facts(int labels, int inputLength, Settings.CharNgrams charNgrams, long parameters, Settings.Loss loss) {}

  @Override
  public StudentPlan<ClassifierInputs> plan(StageContext ctx, StageManifest generate) {
    List<String> labels = generate.details(LabelOutputs.class).labels();
    if (labels == null || labels.isEmpty()) {
      throw new IllegalStateException("The generate manifest of run '" + generate.runId() + "' records no "
          + "label_vocabulary; re-run generate.");
    }
    Settings settings = ctx.settings();
    ClassifierInputs inputs = new ClassifierInputs(settings.student().charNgrams(), labels);
    MultiLayerNetwork net = new MultiLayerNetwork(
        CharNgramClassifier.configuration(settings.student(), settings.train(), inputs));
    net.init();
    return new StudentPlan<>(net, inputs, new Facts(inputs.labels().size(), inputs.length(), inputs.ngrams(),
        net.numParams(), settings.train().loss()));
  }

  @Override
  public JavaRDD<DataSet> examples(Settings settings, Dataset<Row> outputs, ClassifierInputs inputs) {
    return outputs.select(Cols.TEXT, Cols.TOP_LABELS, Cols.TOP_PROBABILITIES, Cols.GOLD_LABEL).javaRDD()
        .mapPartitions(new ToExamples(inputs, settings.train().loss().temperature()));
  }

  @Override
  public byte[] artifact(ClassifierInputs inputs, MultiLayerNetwork trained) {
    return StudentArtifact.of(trained, inputs).toBytes();
  }

  @Override
  public Map<String, Settings> ablations(Settings settings) {
    return StudentRecipe.hardLabelAblation(settings);
  }

  /**
   * Executor side: (text, top labels, top probabilities, gold) rows to one-example DataSets; the hard label is the
   * gold label where the row has one, else the teacher's top label.
   */
  record ToExamples(ClassifierInputs inputs, double temperature) implements FlatMapFunction<Iterator<Row>, DataSet> {
    @Override
    public Iterator<DataSet> call(Iterator<Row> rows) {
      return Iterators.map(rows, r -> {
        List<String> top = r.getList(1);
        String gold = r.getString(3);
        int hard = inputs.labelIndex(gold.isEmpty() ? top.get(0) : gold);
        return inputs.example(r.getString(0), inputs.softTargets(top, r.getList(2), temperature), hard);
      });
    }
  }
}
