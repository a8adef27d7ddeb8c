package io.distillery.run;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.distillery.settings.Settings;
import java.util.List;

/** A student trained beside the main one for comparison (e.g. hard labels only): where it is and how it trained. */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record AblationRecord(String model, String modelSha256, Settings.Loss loss, int chosenEpoch,
    List<EpochRecord> epochs) {}
