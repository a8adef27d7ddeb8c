package io.distillery.jobs.task.classify;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.distillery.run.StageDetails;
import java.util.List;
import java.util.Map;

/**
 * What the generate manifest records of the teacher's label distributions.
 *
 * @param labels the label vocabulary, alphabetical: the student's outputs
 * @param topK the labels kept per row
 * @param topLabelCounts rows per teacher's top label
 */
record LabelOutputs(
    @JsonProperty("label_vocabulary") List<String> labels,
    @JsonProperty("top_k") Integer topK,
    @JsonProperty("teacher_top_label_counts") Map<String, Long> topLabelCounts) implements StageDetails {}
