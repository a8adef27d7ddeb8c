package io.distillery.jobs.task;

import io.distillery.corpus.Split;
import io.distillery.dataset.DatasetKind.Cols;
import java.io.Serializable;
import java.util.HashMap;
import java.util.Map;
import org.apache.spark.sql.Row;

/**
 * A row of the prompts dataset as the teacher is asked about it: one request. A task that asks several times per
 * prompt (samples) gives each request its own row id and sample index; the prompt's own id stays in
 * {@code promptId}.
 */
public record Prompt(String rowId, String text, String split, String goldLabel, String language, String sourceRef,
    String promptId, long sample) implements Serializable {

  /** The prompt columns of {@code row} (a prompts row, or one with more columns), read by name. */
  public static Prompt of(Row row) {
    boolean sampled = row.schema().getFieldIndex(Cols.SAMPLE).isDefined();
    String rowId = row.getAs(Cols.ROW_ID);
    return new Prompt(rowId, row.getAs(Cols.TEXT), row.getAs(Cols.SPLIT), row.getAs(Cols.GOLD_LABEL),
        row.getAs(Cols.LANGUAGE), row.getAs(Cols.SOURCE_REF), sampled ? row.getAs(Cols.PROMPT_ID) : rowId,
        sampled ? row.<Long>getAs(Cols.SAMPLE) : 0L);
  }

  public boolean training() {
    return Split.TRAIN.label().equals(split);
  }

  /** Its values by prompts-dataset column name: what an answer row copies of its prompt. */
  public Map<String, Object> columns() {
    Map<String, Object> c = new HashMap<>();
    c.put(Cols.ROW_ID, rowId);
    c.put(Cols.TEXT, text);
    c.put(Cols.SPLIT, split);
    c.put(Cols.GOLD_LABEL, goldLabel);
    c.put(Cols.LANGUAGE, language);
    c.put(Cols.SOURCE_REF, sourceRef);
    c.put(Cols.PROMPT_ID, promptId);
    c.put(Cols.SAMPLE, sample);
    return c;
  }
}
