package io.distillery.student;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The student's rows: the teacher token ids it has an embedding for, in row order from row 1; row 0 is the
 * unknown token, which every id not in the vocabulary maps to.
 */
public final class Vocabulary implements Serializable {
  public static final int UNKNOWN_ROW = 0;

  private final long[] teacherIds;

  private Vocabulary(long[] sortedTeacherIds) {
    this.teacherIds = sortedTeacherIds;
  }

  public static Vocabulary of(long[] teacherIds) {
    long[] sorted = Arrays.stream(teacherIds).distinct().sorted().toArray();
    return new Vocabulary(sorted);
  }

  /** Number of student rows, the unknown row included. */
  public int size() {
    return teacherIds.length + 1;
  }

  /** Student row of a teacher token id ({@link #UNKNOWN_ROW} if it has none). */
  public int row(long teacherId) {
    int i = Arrays.binarySearch(teacherIds, teacherId);
    return i >= 0 ? i + 1 : UNKNOWN_ROW;
  }

  /** Teacher token id of student row {@code row} (row >= 1). */
  public long teacherId(int row) {
    return teacherIds[row - 1];
  }

  public byte[] toBytes() {
    StringBuilder sb = new StringBuilder();
    for (long id : teacherIds) {
      sb.append(id).append('\n');
    }
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  public static Vocabulary fromBytes(byte[] bytes) {
    String text = new String(bytes, StandardCharsets.UTF_8).strip();
    return text.isEmpty() ? new Vocabulary(new long[0])
        : of(Arrays.stream(text.split("\n")).mapToLong(Long::parseLong).toArray());
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Vocabulary v && Arrays.equals(v.teacherIds, teacherIds);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(teacherIds);
  }
}
