package io.distillery.run;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * One epoch of training as the model card and the train manifest record it; epoch 0 is the untrained network (no
 * train loss, no time).
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record EpochRecord(int epoch, Double trainLoss, double validationLoss, Double seconds) {
  public static EpochRecord untrained(double validationLoss) {
    return new EpochRecord(0, null, validationLoss, null);
  }
}
