package io.distillery.jobs.task.embed;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.distillery.run.StageDetails;

/** What the generate manifest records of the teacher's embeddings. */
record EmbedOutputs(@JsonProperty("embedding_dimension") Integer dimension) implements StageDetails {}
