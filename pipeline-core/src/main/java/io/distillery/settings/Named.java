package io.distillery.settings;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * An enum value as configuration names it: its constant's name in lower case with '-' for '_' (ONNX_EMBEDDING is
 * "onnx-embedding"). Manifests and model cards write the same name.
 */
public interface Named {
  String name();

  @JsonValue
  default String configName() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }
}
