package io.distillery.jobs;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * conf/jvm.properties is the one place the JVM flags live; bin/jvm-flags and TestJvms read every line of it, but
 * the test JVMs' argLine (test.argLine in the parent pom) names each property. This test JVM must have been
 * started with all of them.
 */
class JvmFlagsTest {
  @Test
  void theTestJvmRunsWithEveryFlagOfConfJvmProperties() {
    List<String> flags = TestJvms.flags();
    assertFalse(flags.isEmpty());
    List<String> started = ManagementFactory.getRuntimeMXBean().getInputArguments();
    for (String flag : flags) {
      assertTrue(started.contains(flag), flag + " is in conf/jvm.properties but not in test.argLine (the "
          + "parent pom names each distillery.jvm.* property): " + started);
    }
  }
}
