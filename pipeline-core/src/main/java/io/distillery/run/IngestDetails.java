package io.distillery.run;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.List;

/**
 * What ingest read.
 *
 * @param corpus the corpus read: the Europarl resource or the configured path
 * @param languages the languages kept ([] = all)
 * @param template the prompt template the corpus's rows filled, as {@code template:ID@HASH} (null: none)
 * @param templateText its text
 * @param trainingOnly the training-only text read beside the corpus (corpus.training-only.path; null: none)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record IngestDetails(String corpus, List<String> languages, String template, String templateText,
    String trainingOnly) implements StageDetails {}
