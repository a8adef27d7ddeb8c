package io.distillery.provenance;

import io.distillery.util.Hashing;

/** The hash that identifies an in-process teacher's request on its row: teacher identity, parameters and input. */
public final class RequestHash {
  private RequestHash() {}

  public static String of(TeacherIdentity teacher, String parameters, String input) {
    return Hashing.sha256Hex(teacher.name() + '\u0000' + teacher.modelSha256() + '\u0000' + parameters
        + '\u0000' + input).substring(0, 32);
  }
}
