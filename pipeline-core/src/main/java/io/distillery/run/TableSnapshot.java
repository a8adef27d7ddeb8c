package io.distillery.run;

import java.util.List;

/**
 * What a stage committed to one dataset's table for its run: the snapshot, the run's rows in it and the live data
 * files that hold them. The next stage reads exactly this snapshot after checking these files; readers without an
 * Iceberg library (pyarrow, DuckDB, the notebooks) read the files listed here, which are the whole of the run's
 * partition at that snapshot (deletes rewrite files, copy-on-write).
 *
 * @param table the table's name in its catalog, e.g. {@code distillery.teacher_embeddings}
 * @param snapshotId the Iceberg snapshot the stage's write committed
 * @param rows the run's rows at that snapshot
 */
public record TableSnapshot(String table, long snapshotId, long rows, List<DataFile> files) {

  public TableSnapshot {
    files = List.copyOf(files);
  }

  /** A data file of the snapshot: its location, its size in bytes and its rows. */
  public record DataFile(String path, long bytes, long rows) {}
}
