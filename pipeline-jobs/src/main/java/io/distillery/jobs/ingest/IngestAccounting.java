package io.distillery.jobs.ingest;

import java.util.Map;
import java.util.TreeMap;

/**
 * Ingest's row accounting. Every sentence (and training span) is written as a prompt, dropped as a duplicate of one,
 * or quarantined: {@code sentences + spans = written + duplicates + quarantined}. Checked against what was read
 * back: the prompts written must be the distinct texts prepared, the quarantine rows those quarantined.
 *
 * @param promptSentences sentences that became prompt candidates (before removing duplicates)
 * @param distinctPrompts distinct row ids among the prompt candidates and spans
 * @param quarantined sentences the preparer quarantined
 * @param writtenBySplit prompts read back from the written dataset, by split
 * @param quarantinedByReason quarantine rows read back from the written dataset, by reason
 */
record IngestAccounting(long documentsRead, long documentsOtherLanguage, long promptSentences, long spans,
    long distinctPrompts, long quarantined, Map<String, Long> writtenBySplit, Map<String, Long> quarantinedByReason) {

  long sentences() {
    return promptSentences + quarantined;
  }

  long written() {
    return writtenBySplit.values().stream().mapToLong(Long::longValue).sum();
  }

  long duplicates() {
    return promptSentences + spans - written();
  }

  /** Throws unless every sentence and span is accounted for and the datasets hold what was prepared. */
  void check() {
    long quarantineRows = quarantinedByReason.values().stream().mapToLong(Long::longValue).sum();
    if (written() != distinctPrompts || quarantineRows != quarantined || duplicates() < 0
        || sentences() + spans != written() + duplicates() + quarantined) {
      throw new IllegalStateException("Ingest accounting does not add up: " + counts() + " (distinct prompts "
          + "prepared: " + distinctPrompts + ", quarantine rows written: " + quarantineRows + ")");
    }
  }

  Map<String, Long> counts() {
    Map<String, Long> counts = new TreeMap<>();
    counts.put("documents_read", documentsRead);
    counts.put("documents_other_language", documentsOtherLanguage);
    counts.put("sentences", sentences());
    counts.put("spans", spans);
    counts.put("written", written());
    counts.put("duplicates", duplicates());
    counts.put("quarantined", quarantined);
    writtenBySplit.forEach((split, n) -> counts.put("written_" + split, n));
    quarantinedByReason.forEach((reason, n) -> counts.put("quarantined_" + reason, n));
    return counts;
  }
}
