package io.distillery.settings;

import java.io.Serializable;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Someone's recorded decision to run although the teacher's terms do not allow the run's purpose (purpose.sign-off,
 * the CLI's --sign-off "who: why"), e.g. under a separate licence. It goes into the manifests, the model card and the
 * transparency report.
 *
 * @param who the person or role that signed off
 * @param why the reason they gave
 */
public record SignOff(String who, String why) implements Serializable {
  private static final Pattern FORM = Pattern.compile("\\s*([^:]*[^:\\s])\\s*:\\s*(\\S.*?)\\s*");

  /** "who: why" parsed; empty for "". */
  public static Optional<SignOff> parse(String text) {
    if (text.isBlank()) {
      return Optional.empty();
    }
    Matcher m = FORM.matcher(text);
    if (!m.matches()) {
      throw new IllegalArgumentException("must be \"who: why\" (e.g. \"Jane Roe, legal: licence agreement "
          + "LA-2026-17 allows it\"), was '" + text + "'");
    }
    return Optional.of(new SignOff(m.group(1), m.group(2)));
  }

  @Override
  public String toString() {
    return who + ": " + why;
  }
}
