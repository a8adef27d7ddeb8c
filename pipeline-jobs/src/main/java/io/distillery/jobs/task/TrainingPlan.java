package io.distillery.jobs.task;

import java.io.Serializable;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * What a task hands the train stage: the initial student network, the serializable spec its executor
 * functions turn rows into inputs with (e.g. a vocabulary), and facts for the model card.
 */
public record TrainingPlan(MultiLayerNetwork initial, Serializable inputs, Map<String, Object> details) {}
