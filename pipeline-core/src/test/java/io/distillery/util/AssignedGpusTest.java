package io.distillery.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AssignedGpusTest {
  @AfterEach
  void reset() {
    AssignedGpus.setExecutor(List.of());
    AssignedGpus.clearTask();
  }

  @Test
  void withoutAnAssignmentResourcesOpenOnCudasDefaultDevice() {
    assertEquals(List.of(), AssignedGpus.executor());
    assertEquals(0, AssignedGpus.sessionDevice());
    assertEquals(OptionalInt.empty(), AssignedGpus.task());
  }

  @Test
  void theExecutorsFirstGpuHoldsItsSharedSessionAndEachTaskKeepsItsOwn() throws Exception {
    AssignedGpus.setExecutor(List.of("2", "3"));
    assertEquals(2, AssignedGpus.sessionDevice());
    AssignedGpus.setTask(3);
    OptionalInt[] seen = new OptionalInt[1];
    Thread other = new Thread(() -> seen[0] = AssignedGpus.task());
    other.start();
    other.join();
    assertEquals(OptionalInt.empty(), seen[0], "another thread runs another task");
    assertEquals(OptionalInt.of(3), AssignedGpus.task());
  }

  @Test
  void anAddressThatIsNotADeviceIndexIsRefusedWithWhatTheScriptMustPrint() {
    for (String bad : List.of("GPU-5f3a", "-1", "")) {
      var e = assertThrows(IllegalArgumentException.class, () -> AssignedGpus.setExecutor(List.of(bad)));
      assertTrue(e.getMessage().contains("nvidia-smi --query-gpu=index"), e.getMessage());
    }
    assertEquals(List.of(), AssignedGpus.executor(), "nothing set from a bad list");
  }
}
