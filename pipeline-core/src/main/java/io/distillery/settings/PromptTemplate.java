package io.distillery.settings;

import io.distillery.util.Hashing;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A prompt template: text with named slots ({@code {name}}) filled from the columns of a seed table's rows, one
 * prompt per row. {@code {{} and {@code }}} write literal braces. Its id and content hash go into every prompt's
 * source reference, so a changed template makes new prompts (and so new requests).
 */
public record PromptTemplate(String id, String text) implements Serializable {
  // Before NONE: constructing it parses its text.
  private static final Pattern SLOT = Pattern.compile("\\{\\{|}}|\\{([A-Za-z_][A-Za-z0-9_]*)}|[{}]");

  /** No template: the corpus column is the prompt. */
  public static final PromptTemplate NONE = new PromptTemplate("", "");

  /** A literal run of text, or a slot (its column's name). */
  public record Part(String literal, String slot) implements Serializable {}

  public PromptTemplate {
    parts(text); // fails on a malformed template
  }

  /** Whether there is a template (its text is not empty). */
  public boolean present() {
    return !text.isEmpty();
  }

  /** The template's pieces in order. */
  public List<Part> parts() {
    return parts(text);
  }

  /** The slots' names, in order of first use. */
  public Set<String> slots() {
    Set<String> slots = new LinkedHashSet<>();
    parts().stream().filter(p -> p.slot() != null).forEach(p -> slots.add(p.slot()));
    return slots;
  }

  /** The first 16 hex digits of the text's sha256. */
  public String hash() {
    return Hashing.sha256Hex(text).substring(0, 16);
  }

  /** What a prompt's source reference starts with: the template's id and hash. */
  public String reference() {
    return "template:" + id + "@" + hash();
  }

  private static List<Part> parts(String text) {
    List<Part> parts = new ArrayList<>();
    StringBuilder literal = new StringBuilder();
    Matcher m = SLOT.matcher(text);
    int at = 0;
    while (m.find()) {
      literal.append(text, at, m.start());
      at = m.end();
      String token = m.group();
      if (token.equals("{{") || token.equals("}}")) {
        literal.append(token.charAt(0));
      } else if (m.group(1) != null) {
        if (literal.length() > 0) {
          parts.add(new Part(literal.toString(), null));
          literal.setLength(0);
        }
        parts.add(new Part(null, m.group(1)));
      } else {
        throw new IllegalArgumentException("The template has a lone '" + token + "' at character " + m.start()
            + ": a slot is {name} (letters, digits, _), a literal brace is {{ or }}: " + text);
      }
    }
    literal.append(text.substring(at));
    if (literal.length() > 0) {
      parts.add(new Part(literal.toString(), null));
    }
    return parts;
  }
}
