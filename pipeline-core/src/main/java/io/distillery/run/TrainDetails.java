package io.distillery.run;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.List;
import java.util.Map;

/** What train wrote: the student's model file, its epochs, and the ablations trained beside it. */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record TrainDetails(String model, String modelSha256, List<EpochRecord> epochs, int chosenEpoch, int workers,
    Map<String, AblationRecord> ablations) implements StageDetails {}
