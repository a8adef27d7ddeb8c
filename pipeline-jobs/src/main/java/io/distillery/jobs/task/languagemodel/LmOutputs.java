package io.distillery.jobs.task.languagemodel;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.distillery.run.StageDetails;
import java.util.Map;

/**
 * What the generate manifest records of the teacher's completions.
 *
 * @param tokenizerFingerprint a hash of the teacher's vocabulary: a student must read the same tokens (null: a
 *     remote teacher whose teacher.tokenizer is not a tokenizer that can be read)
 * @param vocabSize the teacher's vocabulary size (null likewise)
 * @param topK alternatives stored per generated position
 * @param completionTokens tokens generated in all, as the teacher counted them
 * @param bytesPerToken the stored top-k column's bytes per generated token, before Parquet compression
 * @param finishReasons completions per finish reason
 * @param textOnlyCompletions completions a remote teacher sent without token ids or without its alternatives' ids:
 *     corpus text a student cannot learn from
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
record LmOutputs(String tokenizerFingerprint, Integer vocabSize, Integer topK, Long completionTokens, Double bytesPerToken,
    Map<String, Long> finishReasons, Long textOnlyCompletions) implements StageDetails {}
