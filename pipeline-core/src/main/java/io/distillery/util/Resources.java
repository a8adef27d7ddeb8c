package io.distillery.util;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Opens "classpath:NAME" resources (shipped inside Maven artifacts) and local files alike. */
public final class Resources {
  public static final String CLASSPATH = "classpath:";

  private Resources() {}

  public static InputStream open(String location) throws IOException {
    if (location.startsWith(CLASSPATH)) {
      String name = location.substring(CLASSPATH.length());
      InputStream in = Thread.currentThread().getContextClassLoader().getResourceAsStream(name);
      if (in == null) {
        in = Resources.class.getClassLoader().getResourceAsStream(name);
      }
      if (in == null) {
        throw new NoSuchFileException(location, null,
            "not on the classpath; is the Maven artifact that ships it a dependency?");
      }
      return in;
    }
    return Files.newInputStream(Path.of(location));
  }

  public static byte[] readAll(String location) {
    try (InputStream in = open(location)) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + location, e);
    }
  }
}
