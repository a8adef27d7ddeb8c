package io.distillery.corpus;

import io.distillery.settings.Settings;
import io.distillery.util.Hashing;
import java.util.Locale;

/** Train / validation / test assignment by a hash of the row id: stable across runs and corpora. */
public enum Split {
  TRAIN, VALIDATION, TEST;

  public static Split of(String rowId, Settings.Corpus spec) {
    double u = Hashing.unitInterval(Hashing.sha256Hex("split:" + rowId));
    if (u < spec.testFraction()) {
      return TEST;
    }
    return u < spec.testFraction() + spec.validationFraction() ? VALIDATION : TRAIN;
  }

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
