package io.distillery.jobs.task.languagemodel;

import io.distillery.settings.Settings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/** The shipped stories examples made test-sized: local[2], 2 samples a prompt, short completions. */
final class StoriesRuns {
  private StoriesRuns() {}

  /** {@code conf/examples/CONFIG} under {@code root} with completions of at most {@code maxTokens}, plus {@code more}. */
  static Settings settings(String config, Path root, int maxTokens, Map<String, String> more) {
    Path repo = Path.of(System.getProperty("test.repo.root", ".."));
    Map<String, String> o = new HashMap<>(more);
    o.put("distillery.run.root", root.toUri().toString());
    o.put("distillery.spark.master", "local[2]");
    o.put("distillery.spark.partitions", "2");
    o.put("distillery.corpus.path", repo.resolve("conf/examples/story-prompts.txt").toString());
    o.put("distillery.generate.samples", "2");
    o.put("distillery.generate.sampling.max-tokens", Integer.toString(maxTokens));
    return Settings.load(Optional.of(repo.resolve("conf/examples").resolve(config)), o);
  }

  /** The number of prompts the stories examples ship. */
  static long prompts() throws IOException {
    return Files.readAllLines(Path.of(System.getProperty("test.repo.root", ".."))
        .resolve("conf/examples/story-prompts.txt")).size();
  }
}
