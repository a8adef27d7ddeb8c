package io.distillery.jobs;

import io.distillery.jobs.cli.DistilleryCli;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** The command line run in the test JVM, as a scheduler runs it: its exit code and what it printed on stderr. */
public final class CliRuns {
  private CliRuns() {}

  public record Result(int code, String err) {}

  public static Result run(String... args) {
    PrintStream saved = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      return new Result(DistilleryCli.execute(args), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setErr(saved);
    }
  }
}
