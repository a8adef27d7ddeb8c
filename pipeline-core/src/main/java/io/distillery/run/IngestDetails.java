package io.distillery.run;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.List;

/**
 * What ingest read.
 *
 * @param corpus the corpus read: the Europarl resource or the configured path
 * @param languages the languages kept ([] = all)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record IngestDetails(String corpus, List<String> languages) implements StageDetails {}
