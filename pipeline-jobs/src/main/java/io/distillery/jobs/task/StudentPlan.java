package io.distillery.jobs.task;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * What a task's recipe hands the train stage.
 *
 * @param initial the student before training
 * @param inputs what turns a row into the student's input, captured by the executor functions
 * @param facts the student's inputs as the model card records them (a record of the task's)
 */
public record StudentPlan<I>(MultiLayerNetwork initial, I inputs, Object facts) {}
