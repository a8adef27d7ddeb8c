package io.distillery.dataset;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.distillery.TestSettings;
import io.distillery.dataset.DatasetKind.Cols;
import io.distillery.provenance.Provenance;
import io.distillery.provenance.TeacherIdentity;
import java.sql.Timestamp;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Dataset rows are built by column name against the declared schema, type-checked, in the dataset's order. */
class DatasetRowTest {
  private static final TeacherIdentity TEACHER = TeacherIdentity.of("t", "1", "classpath:t.onnx", "abc",
      TestSettings.defaults().teacher().terms());

  @Test
  void valuesComeOutInTheDeclaredOrderWhateverTheOrderTheyWereSetIn() {
    float[] embedding = {0.6f, 0.8f};
    DatasetRow row = DatasetRow.of(DatasetKind.TEACHER_EMBEDDINGS)
        .provenance(Provenance.inProcess(TEACHER, "h1", 2.5))
        .set(Cols.EMBEDDING, embedding)
        .setDeclared(Map.of(Cols.SPLIT, "train", Cols.TEXT, "Hello there.", Cols.ROW_ID, "r1",
            Cols.LANGUAGE, "eng"));
    Object[] values = row.values();
    assertEquals(DatasetKind.TEACHER_EMBEDDINGS.columns().size(), values.length);
    for (int i = 0; i < values.length; i++) {
      assertEquals(row.get(DatasetKind.TEACHER_EMBEDDINGS.columns().get(i).name()), values[i]);
    }
    assertEquals("r1", values[0]);
    assertArrayEquals(embedding, (float[]) values[DatasetKind.TEACHER_EMBEDDINGS.columnNames().indexOf(
        Cols.EMBEDDING)]);
    assertEquals("abc", row.get(Cols.TEACHER_SHA256));
    assertTrue(row.get(Cols.CREATED_AT) instanceof Timestamp);
    assertNull(row.get(Cols.LANGUAGE), "setDeclared skips the columns the dataset does not have");
  }

  @Test
  void anUndeclaredColumnOrAWrongTypeFailsAtOnce() {
    DatasetRow row = DatasetRow.of(DatasetKind.TEACHER_FAILURES);
    IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
        () -> row.set(Cols.EMBEDDING, new float[1]));
    assertTrue(unknown.getMessage().contains("has no column embedding"), unknown.getMessage());
    IllegalArgumentException type = assertThrows(IllegalArgumentException.class, () -> row.set(Cols.ATTEMPTS, 3));
    assertTrue(type.getMessage().contains("column attempts of TEACHER_FAILURES is LONG, not a Integer"),
        type.getMessage());
  }

  @Test
  void aRequiredColumnLeftUnsetIsNamed() {
    DatasetRow row = DatasetRow.of(DatasetKind.TEACHER_FAILURES).set(Cols.ROW_ID, "r").set(Cols.TEXT, "t")
        .set(Cols.ERROR_CLASS, "timeout").set(Cols.ATTEMPTS, 2L).set(Cols.CREATED_AT, new Timestamp(0)).teacher(TEACHER);
    IllegalStateException e = assertThrows(IllegalStateException.class, row::values);
    assertTrue(e.getMessage().contains("column message of TEACHER_FAILURES is required"), e.getMessage());
    row.set(Cols.MESSAGE, "no answer");
    assertNull(row.values()[DatasetKind.TEACHER_FAILURES.columnNames().indexOf(Cols.HTTP_STATUS)],
        "nullable columns may stay unset");
  }
}
