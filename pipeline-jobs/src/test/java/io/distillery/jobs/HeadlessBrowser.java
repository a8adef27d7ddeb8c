package io.distillery.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A page as a person's browser shows it: Debian's {@code chromium}, headless, loads the page in a frame of a probe
 * page that, once the page has loaded, reads what was drawn (its title, each image decoded or not, a few elements'
 * text) into its own DOM, which Chromium prints. The page's console errors come from Chromium's log.
 */
public final class HeadlessBrowser {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern RESULT = Pattern.compile("<pre id=\"result\">(.*?)</pre>", Pattern.DOTALL);

  private HeadlessBrowser() {}

  /** What the page showed: {title, images, drawn, texts: {selector: text}, errors: [console errors]}. */
  public static JsonNode load(Path page, List<String> selectors) throws Exception {
    Path dir = Files.createTempDirectory("browser");
    String probe = "<!doctype html><html><body><iframe id=\"page\" src=\"" + page.toUri()
        + "\" style=\"width:1100px;height:4000px\"></iframe><pre id=\"result\">not loaded</pre><script>"
        + "const selectors = " + JSON.writeValueAsString(selectors) + ";"
        + "document.getElementById('page').addEventListener('load', () => {"
        + "  const d = document.getElementById('page').contentDocument;"
        + "  const images = [...d.querySelectorAll('img')];"
        + "  const texts = {};"
        + "  selectors.forEach(s => { const e = d.querySelector(s); texts[s] = e ? e.textContent : null; });"
        + "  document.getElementById('result').textContent = JSON.stringify({title: d.title,"
        + "    images: images.length, drawn: images.filter(i => i.complete && i.naturalWidth > 0).length, texts});"
        + "});</script></body></html>";
    Path probeFile = Files.writeString(dir.resolve("probe.html"), probe, StandardCharsets.UTF_8);
    Path err = dir.resolve("stderr.txt");
    Process p = new ProcessBuilder(chromium(), "--headless", "--no-sandbox", "--disable-gpu",
        "--allow-file-access-from-files", "--virtual-time-budget=10000", "--enable-logging=stderr", "--v=0",
        "--user-data-dir=" + dir.resolve("profile"), "--dump-dom", probeFile.toUri().toString())
        .redirectError(err.toFile()).start();
    String dom = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(90, TimeUnit.SECONDS), "chromium finished");
    assertEquals(0, p.exitValue(), "chromium: " + Files.readString(err));
    Matcher m = RESULT.matcher(dom);
    assertTrue(m.find(), "the probe's result in " + dom);
    String text = m.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
    assertTrue(text.startsWith("{"), "the page loaded in the frame: " + text);
    ObjectNode result = (ObjectNode) JSON.readTree(text);
    ArrayNode errors = result.putArray("errors");
    Files.readAllLines(err).stream().filter(l -> l.contains(":CONSOLE") || l.contains("Failed to load"))
        .forEach(errors::add);
    return result;
  }

  private static String chromium() {
    Optional<String> found = Stream.of("chromium", "chromium-browser", "google-chrome")
        .filter(name -> Stream.of(System.getenv("PATH").split(File.pathSeparator))
            .anyMatch(d -> Files.isExecutable(Path.of(d, name))))
        .findFirst();
    assertTrue(found.isPresent(), "Debian's chromium renders the report (apt-get install chromium; .ci/run does)");
    return found.get();
  }
}
