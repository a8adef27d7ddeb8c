package io.distillery.run;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What evaluate decided: the gate's verdict and the report, with the metrics beside them in the same object (read
 * back from metrics.json, not from here).
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record EvaluateDetails(boolean gatePassed, List<String> gateFailures, String report,
    @JsonIgnore Map<String, Double> metrics) implements StageDetails {

  @Override
  public Map<String, Object> toMap() {
    Map<String, Object> all = new TreeMap<>(metrics == null ? Map.of() : metrics);
    all.put("gate_passed", gatePassed);
    all.put("gate_failures", gateFailures);
    all.put("report", report);
    return all;
  }
}
