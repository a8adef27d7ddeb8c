package io.distillery.jobs.generate;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Generate's row accounting: rows in = written + failed + quarantined, and the failure fraction without the rows
 * never sent.
 */
class GenerateAccountingTest {

  @Test
  void everyRowIsWrittenFailedOrQuarantined() {
    assertDoesNotThrow(() -> new GenerateAccounting(100, 97, 3, 0, 0).checkNothingLost());
    assertDoesNotThrow(() -> new GenerateAccounting(100, 90, 3, 0, 7).checkNothingLost());
    assertThrows(IllegalStateException.class, () -> new GenerateAccounting(100, 90, 3, 0, 6).checkNothingLost());
    IllegalStateException lost = assertThrows(IllegalStateException.class,
        () -> new GenerateAccounting(100, 96, 3, 0, 0).checkNothingLost());
    assertTrue(lost.getMessage().contains("rows_in=100") && lost.getMessage().contains("written=96"),
        lost.getMessage());
    assertThrows(IllegalStateException.class, () -> new GenerateAccounting(100, 95, 5, 6, 0).checkNothingLost(),
        "more rows not sent than failed");
  }

  @Test
  void rowsNotSentForTheBudgetDoNotCountAsTheTeachersFailures() {
    GenerateAccounting a = new GenerateAccounting(100, 60, 40, 38, 0);
    assertEquals(2, a.teacherFailed());
    assertEquals(0.02, a.failedFraction(), 1e-12);
    assertFalse(a.tooManyFailures(0.05));
    assertTrue(a.tooManyFailures(0.01));
    String message = a.tooManyFailuresMessage(0.01, Map.of("http_500", 2L), "ROOT/teacher-failures");
    assertTrue(message.contains("2 of 100 prompts (2.00%)") && message.contains("generate.max-failure-fraction = 0.01")
        && message.contains("http_500=2") && message.contains("ROOT/teacher-failures"), message);
  }

  @Test
  void anEmptyRunHasNoFailureFraction() {
    GenerateAccounting none = new GenerateAccounting(0, 0, 0, 0, 0);
    none.checkNothingLost();
    assertEquals(0, none.failedFraction());
    assertEquals(Map.of("rows_in", 0L, "written", 0L, "failed", 0L, "quarantined", 0L), none.counts());
  }
}
