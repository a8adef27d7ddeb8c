package io.distillery.run;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.Map;
import java.util.TreeMap;

/**
 * What generate wrote: the task, its output dataset, and the task's own facts about the answers (e.g. the embedding
 * dimension, the label vocabulary), written beside them in the same object and read back by the task's own record.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record GenerateDetails(String task, String dataset, @JsonIgnore StageDetails outputs)
    implements StageDetails {

  @Override
  public Map<String, Object> toMap() {
    Map<String, Object> all = new TreeMap<>(outputs.toMap());
    all.put("task", task);
    all.put("dataset", dataset);
    return all;
  }
}
