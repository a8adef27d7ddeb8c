package io.distillery.jobs.task.languagemodel;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.dataset.PackedTokens;
import io.distillery.dataset.PackedTopK;
import io.distillery.jobs.spark.Iterators;
import io.distillery.jobs.stage.StageContext;
import io.distillery.jobs.task.StudentPlan;
import io.distillery.jobs.task.StudentRecipe;
import io.distillery.run.StageManifest;
import io.distillery.settings.Settings;
import io.distillery.student.LmInputs;
import io.distillery.student.LstmLanguageModel;
import io.distillery.student.StudentArtifact;
import io.distillery.teacher.LanguageModelTeacher;
import io.distillery.teacher.lm.Llama2Tokenizer;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;

/**
 * The language-model student: an LSTM over the teacher's vocabulary, reading each prompt and its completion and
 * learning, at every completion token, the teacher's top-k distribution and the token the teacher wrote; with
 * train.hard-label-ablation, the same student on the written tokens only beside it.
 */
final class LmStudent implements StudentRecipe<LmTraining> {

  /** The student's inputs as the model card records them. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  record Facts(int vocabSize, int maxTokens, int topK, String tokenizerFingerprint, long parameters,
      Settings.Loss loss) {}

  @Override
  public StudentPlan<LmTraining> plan(StageContext ctx, StageManifest generate) {
    LmOutputs outputs = generate.details(LmOutputs.class);
    if (outputs.vocabSize() == null || outputs.tokenizerFingerprint() == null) {
      throw new IllegalStateException("The generate manifest of run '" + generate.runId() + "' records no "
          + "vocabulary_size or tokenizer_fingerprint: the teacher's token ids are in no vocabulary a student can "
          + "read. With a remote teacher, point " + Settings.Teacher.TOKENIZER.path() + " at the served model's "
          + "llama2.c tokenizer file and run generate again.");
    }
    if (outputs.textOnlyCompletions() != null && outputs.textOnlyCompletions() > 0) {
      throw new IllegalStateException(outputs.textOnlyCompletions() + " completions of run '" + generate.runId()
          + "' came without the token ids of the teacher's tokens or of their alternatives (the server sent token "
          + "strings only), and a student learns ids. Set " + Settings.Http.RETURN_TOKEN_IDS.path() + " = true for "
          + "vLLM or serve-teacher and run generate again; a corpus without ids can still be exported "
          + "(distillery export).");
    }
    Settings settings = ctx.settings();
    LmTraining training = LmTraining.of(settings.teacher(), outputs.vocabSize(), outputs.tokenizerFingerprint(),
        settings.student().maxTokens(), outputs.topK());
    MultiLayerNetwork net = new MultiLayerNetwork(
        LstmLanguageModel.configuration(settings.student(), settings.train(), training.inputs()));
    net.init();
    LmInputs in = training.inputs();
    return new StudentPlan<>(net, training, new Facts(in.vocabSize(), in.maxTokens(), in.topK(),
        in.tokenizerFingerprint(), net.numParams(), settings.train().loss()));
  }

  @Override
  public JavaRDD<DataSet> examples(Settings settings, Dataset<Row> outputs, LmTraining training) {
    return outputs.select(Cols.TEXT, Cols.TOKEN_IDS, Cols.TOP_K, Cols.TOP_K_SIZE).javaRDD()
        .mapPartitions(new ToExamples(training));
  }

  @Override
  public byte[] artifact(LmTraining training, MultiLayerNetwork trained) {
    return StudentArtifact.of(trained, training.inputs(), training.tokenizerFile()).toBytes();
  }

  @Override
  public Optional<LanguageModelTeacher> servable(byte[] artifact, Settings settings) {
    return Optional.of(StudentLanguageModel.of(artifact, settings.run().id() + "-student", settings));
  }

  @Override
  public Map<String, Settings> ablations(Settings settings) {
    return StudentRecipe.hardLabelAblation(settings);
  }

  /** Executor side: (prompt, tokens, top-k) rows to one-sequence DataSets. */
  record ToExamples(LmTraining training) implements FlatMapFunction<Iterator<Row>, DataSet> {
    @Override
    public Iterator<DataSet> call(Iterator<Row> rows) {
      Llama2Tokenizer tokenizer = training.tokenizer();
      LmInputs inputs = training.inputs();
      return Iterators.map(rows, r -> {
        int k = (int) r.getLong(3);
        byte[] topK = r.getAs(2);
        return inputs.example(tokenizer.encode(r.getString(0), true), PackedTokens.ids((byte[]) r.getAs(1)),
            PackedTopK.ids(topK, k), PackedTopK.logprobs(topK, k));
      });
    }
  }
}
