package io.distillery.run;

import java.util.Map;

/**
 * A stage's facts for its manifest, typed: {@link IngestDetails}, {@link GenerateDetails}, {@link TrainDetails},
 * {@link EvaluateDetails}. Written as the manifest's {@code details} object, with snake_case names.
 */
public interface StageDetails {
  /** Added to every stage's details by the stage runner. */
  String ELAPSED_SECONDS = "elapsed_seconds";

  /** The details as the manifest's JSON object. */
  default Map<String, Object> toMap() {
    return StageManifest.asMap(this);
  }
}
