package io.distillery.util;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One instance per JVM of an expensive resource (a teacher session, a tokenizer, a student model),
 * keyed by its serializable spec. Executor functions borrow it for a partition; it is reused by every
 * later task on that executor and closed when the JVM exits.
 */
public final class JvmShared {
  private static final Logger LOG = LoggerFactory.getLogger(JvmShared.class);
  private static final Map<Object, Object> INSTANCES = new ConcurrentHashMap<>();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(JvmShared::closeAll, "distillery-jvm-shared-close"));
  }

  private JvmShared() {}

  /** Returns the JVM's instance for {@code spec}, creating it with {@code open} on first use. */
  @SuppressWarnings("unchecked")
  public static <T> T get(Object spec, Supplier<T> open) {
    return (T) INSTANCES.computeIfAbsent(spec, k -> {
      LOG.info("Opening per-JVM resource for {}", k);
      return open.get();
    });
  }

  /** Closes and forgets every instance (tests, and the JVM shutdown hook). */
  public static synchronized void closeAll() {
    for (Object resource : INSTANCES.values()) {
      if (resource instanceof AutoCloseable c) {
        try {
          c.close();
        } catch (Exception e) {
          LOG.warn("Closing {} failed", resource, e);
        }
      }
    }
    INSTANCES.clear();
  }
}
