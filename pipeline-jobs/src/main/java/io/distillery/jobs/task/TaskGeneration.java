package io.distillery.jobs.task;

import io.distillery.dataset.DatasetKind;
import io.distillery.jobs.stage.StageContext;
import io.distillery.run.StageDetails;
import io.distillery.settings.Settings;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * A task's part of the generate stage: the dataset its teacher's answers go to, how an answer fills its columns,
 * the in-process teacher, and what it writes beyond one answer per prompt. The stage asks, stages the attempts,
 * splits answers from failures and checks the accounting.
 */
public interface TaskGeneration {
  /** The dataset the teacher's answers go to. */
  DatasetKind output();

  /**
   * The requests to ask the teacher, from the run's prompts: the prompts themselves, unless the task asks several
   * times per prompt (each request then has its own row id, with the prompt's in prompt_id and its sample index in
   * sample). Generate's accounting counts these.
   */
  default Dataset<Row> requests(StageContext ctx, Dataset<Row> prompts) {
    return prompts;
  }

  /** Executor side: the task's columns of an answer. */
  AnswerColumns columns();

  /** The in-process teacher these settings name (a remote one is asked by the generate stage itself). */
  PartitionTeacher.Opener inProcess(Settings settings);

  /** What a remote teacher is sent for each request: by default the prompt's text. */
  default RemoteRequests remoteRequests(Settings settings) {
    return new RemoteRequests.Text();
  }

  /**
   * Which answers go to teacher-quarantine (with a reason) instead of the task's dataset, decided before any answer
   * is written; most tasks keep every answer.
   */
  default Optional<QualityGate> quality(Settings settings) {
    return Optional.empty();
  }

  /** What the in-process teacher emits beside its answers, if anything. */
  Optional<Byproduct> byproduct(Settings settings);

  /** Facts about the answers for the generate manifest (e.g. the dimension, the label vocabulary). */
  StageDetails describe(StageContext ctx, Dataset<Row> outputs);

  /**
   * Further teacher outputs the task's student needs beyond one answer per prompt (e.g. the teacher's vector for
   * each corpus token), written after the prompts are answered; their counts for the manifest. Most tasks have none.
   */
  default Map<String, Long> auxiliary(StageContext ctx) {
    return Map.of();
  }
}
