package io.distillery.jobs.task.languagemodel;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.distillery.run.StageDetails;
import java.util.Map;

/**
 * What the generate manifest records of the teacher's completions.
 *
 * @param tokenizerFingerprint a hash of the teacher's vocabulary: a student must read the same tokens
 * @param vocabSize the teacher's vocabulary size
 * @param topK alternatives stored per generated position
 * @param completionTokens tokens generated in all
 * @param bytesPerToken the stored top-k column's bytes per generated token, before Parquet compression
 * @param finishReasons completions per finish reason
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
record LmOutputs(String tokenizerFingerprint, Integer vocabSize, Integer topK, Long completionTokens, Double bytesPerToken,
    Map<String, Long> finishReasons) implements StageDetails {}
