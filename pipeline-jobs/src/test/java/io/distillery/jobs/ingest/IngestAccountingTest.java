package io.distillery.jobs.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Ingest's accounting against what was read back: sentences + spans = written + duplicates + quarantined, with the
 * prompts written equal to the distinct texts prepared and the quarantine rows equal to the sentences quarantined.
 */
class IngestAccountingTest {
  private static IngestAccounting of(long distinct, Map<String, Long> written, Map<String, Long> quarantined) {
    return new IngestAccounting(10, 2, 20, 6, distinct, 4, written, quarantined);
  }

  @Test
  void countsAddUpAndNameEverySplitAndReason() {
    IngestAccounting a = of(24, Map.of("train", 20L, "test", 4L), Map.of("too_short", 3L, "empty", 1L));
    a.check();
    Map<String, Long> c = a.counts();
    assertEquals(24L, c.get("sentences"));
    assertEquals(24L, c.get("written"));
    assertEquals(2L, c.get("duplicates"));
    assertEquals(c.get("sentences") + c.get("spans"), c.get("written") + c.get("duplicates") + c.get("quarantined"));
    assertEquals(20L, c.get("written_train"));
    assertEquals(3L, c.get("quarantined_too_short"));
    assertEquals(10L, c.get("documents_read"));
  }

  @Test
  void aPromptLostOnWritingFails() {
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> of(24, Map.of("train", 19L, "test", 4L), Map.of("too_short", 4L)).check());
    assertTrue(e.getMessage().contains("distinct prompts prepared: 24"), e.getMessage());
  }

  @Test
  void aQuarantinedSentenceLostOnWritingFails() {
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> of(24, Map.of("train", 24L), Map.of("too_short", 3L)).check());
    assertTrue(e.getMessage().contains("quarantine rows written: 3"), e.getMessage());
  }

  @Test
  void moreDistinctPromptsThanCandidatesFails() {
    assertThrows(IllegalStateException.class, () -> of(27, Map.of("train", 27L), Map.of("empty", 4L)).check());
  }
}
