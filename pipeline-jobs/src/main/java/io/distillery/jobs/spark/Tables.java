package io.distillery.jobs.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.distillery.dataset.ColumnType;
import io.distillery.dataset.DatasetKind;
import io.distillery.run.TableSnapshot;
import io.distillery.settings.Settings;
import io.distillery.settings.TableCatalog;
import io.distillery.util.Hashing;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.exceptions.NotFoundException;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.spark.Spark3Util;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.analysis.NoSuchTableException;
import org.apache.spark.sql.catalyst.parser.ParseException;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The datasets as Apache Iceberg tables: one table per dataset kind, partitioned by run id, created on first use with
 * the declared schema. A write replaces its run's partition in one commit (an overwrite filtered on the run id, so an
 * empty result leaves an empty partition and a re-run leaves no duplicates) and tags the snapshot it committed
 * ({@code run-RUN}), so that table maintenance keeps it. A read is of one snapshot, after checking that the data
 * files it lists are all there and whole.
 */
public final class Tables {
  private static final Logger LOG = LoggerFactory.getLogger(Tables.class);
  private static final String COMMIT = "distillery.commit";
  private static final String RUN = "distillery.run-id";

  private final SparkSession spark;
  private final Settings.Tables spec;
  /** The catalog's name in this session: tables.spark-catalog, unless the session has that name for other tables. */
  private final String catalog;

  /**
   * The tables of {@code spec} in {@code spark}, registering their catalog in the session if it is not there yet.
   *
   * @param defaultWarehouse the warehouse when tables.warehouse is "": the run root's tables directory
   */
  public Tables(SparkSession spark, Settings.Tables spec, String defaultWarehouse) {
    this.spark = spark;
    this.spec = spec;
    this.catalog = register(spark, spec, defaultWarehouse);
  }

  /**
   * Registers the catalog under tables.spark-catalog; a session that already has that name for another warehouse
   * (tests, or a tool reading two run roots) gets it under that name plus a hash of its configuration.
   */
  private static String register(SparkSession spark, Settings.Tables spec, String defaultWarehouse) {
    Map<String, String> wanted = catalogConfig(spec, defaultWarehouse);
    String name = spec.sparkCatalog();
    String key = "spark.sql.catalog." + name;
    if (spark.conf().contains(key) && !matches(spark, name, wanted)) {
      name = name + "_" + Hashing.sha256Hex(wanted.toString()).substring(0, 8);
    }
    if (!matches(spark, name, wanted)) {
      String prefix = "spark.sql.catalog." + name;
      wanted.forEach((k, v) -> spark.conf().set(prefix + k, v));
    }
    // Nullability is checked where rows are built (DatasetRow, the declared schemas); intermediate frames (staged
    // attempts) are nullable throughout and would otherwise be refused by the tables' required columns.
    spark.conf().set("spark.sql.iceberg.check-nullability", "false");
    return name;
  }

  private static boolean matches(SparkSession spark, String name, Map<String, String> wanted) {
    String prefix = "spark.sql.catalog." + name;
    return wanted.entrySet().stream().allMatch(e -> spark.conf().contains(prefix + e.getKey())
        && spark.conf().get(prefix + e.getKey()).equals(e.getValue()));
  }

  /** The catalog's properties, each under spark.sql.catalog.NAME (the empty key is the catalog's class). */
  private static Map<String, String> catalogConfig(Settings.Tables spec, String defaultWarehouse) {
    Map<String, String> conf = new LinkedHashMap<>();
    conf.put("", "org.apache.iceberg.spark.SparkCatalog");
    conf.put(".type", spec.catalog().configName());
    if (!spec.warehouse().isBlank() || spec.catalog() == TableCatalog.HADOOP) {
      conf.put(".warehouse", spec.warehouse().isBlank() ? defaultWarehouse : spec.warehouse());
    }
    if (!spec.uri().isBlank()) {
      conf.put(".uri", spec.uri());
    }
    return conf;
  }

  /** The catalog's name in this session. */
  public String catalog() {
    return catalog;
  }

  /** The table's name in its catalog, as the manifests record it: NAMESPACE.KIND. */
  public String name(DatasetKind kind) {
    return spec.namespace() + "." + kind.tableName();
  }

  /** The table's name in the Spark session: SPARK-CATALOG.NAMESPACE.KIND. */
  public String sparkName(DatasetKind kind) {
    return catalog + "." + name(kind);
  }

  /** The tag that keeps a run's snapshot of a table through maintenance. */
  public static String tag(String runId) {
    return "run-" + runId;
  }

  /**
   * Writes {@code rows} (columns as declared for {@code kind}) as run {@code runId}'s partition, replacing it in one
   * commit; returns what was committed.
   */
  public TableSnapshot write(Dataset<Row> rows, DatasetKind kind, String runId) {
    long start = System.nanoTime();
    ensure(kind);
    String token = UUID.randomUUID().toString();
    Column[] columns = kind.columnNames().stream().map(functions::col).toArray(Column[]::new);
    try {
      rows.select(columns).withColumn(DatasetKind.RUN_ID, lit(runId))
          .writeTo(sparkName(kind))
          .option("snapshot-property." + COMMIT, token)
          .option("snapshot-property." + RUN, runId)
          .overwrite(col(DatasetKind.RUN_ID).equalTo(runId));
    } catch (Exception e) { // the V2 writer declares NoSuchTableException, a checked exception
      throw new IllegalStateException("Cannot write run '" + runId + "' to table " + name(kind) + ": " + e, e);
    }
    long written = System.nanoTime();
    Table table = load(kind);
    Snapshot committed = StreamSupport.stream(table.snapshots().spliterator(), false)
        .filter(s -> token.equals(s.summary().get(COMMIT)))
        .findFirst()
        .orElseThrow(() -> new IllegalStateException("The write of run '" + runId + "' to " + name(kind)
            + " left no snapshot of its own (commit " + token + ")"));
    retag(kind, runId, committed.snapshotId());
    TableSnapshot snapshot = snapshot(table, kind, committed.snapshotId(), runId);
    LOG.info("Table {}: run '{}' committed as snapshot {} ({} rows in {} files; write and commit {} ms, tag and "
        + "listing {} ms)", name(kind), runId, snapshot.snapshotId(), snapshot.rows(), snapshot.files().size(),
        (written - start) / 1_000_000, (System.nanoTime() - written) / 1_000_000);
    return snapshot;
  }

  /**
   * Run {@code runId}'s rows of {@code snapshot}, without the run_id column, once every data file the snapshot lists
   * for the run is there with the size it had: a file deleted by hand, by a retention job or by a failed copy stops
   * the reader, naming the table, the snapshot and the file.
   */
  public Dataset<Row> read(TableSnapshot snapshot, DatasetKind kind, String runId) {
    verify(snapshot, kind, runId);
    return spark.read().option("snapshot-id", snapshot.snapshotId()).table(sparkName(kind))
        .where(col(DatasetKind.RUN_ID).equalTo(runId))
        .drop(DatasetKind.RUN_ID);
  }

  /** Checks a committed snapshot against the table and the file system; throws naming what is missing. */
  public void verify(TableSnapshot snapshot, DatasetKind kind, String runId) {
    long start = System.nanoTime();
    String what = "Table " + snapshot.table() + " at snapshot " + snapshot.snapshotId() + " (run '" + runId + "')";
    Table table;
    try {
      table = load(kind);
    } catch (RuntimeException e) {
      throw new IllegalStateException(what + ": the table cannot be loaded (" + e.getMessage() + ").", e);
    }
    if (table.snapshot(snapshot.snapshotId()) == null) {
      throw new IllegalStateException(what + ": the table no longer has that snapshot (expired or rolled back). Re-run"
          + " the stage that wrote it with --force.");
    }
    TableSnapshot listed;
    try {
      listed = snapshot(table, kind, snapshot.snapshotId(), runId);
    } catch (NotFoundException | UncheckedIOException e) {
      throw new IllegalStateException(what + ": its metadata cannot be read (" + e.getMessage() + ").", e);
    }
    if (listed.rows() != snapshot.rows() || !listed.files().equals(snapshot.files())) {
      throw new IllegalStateException(what + ": the table lists " + listed.files().size() + " files and "
          + listed.rows() + " rows, the stage committed " + snapshot.files().size() + " and " + snapshot.rows()
          + ".");
    }
    for (TableSnapshot.DataFile f : snapshot.files()) {
      Path p = new Path(f.path());
      try {
        FileSystem fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
        if (!fs.exists(p)) {
          throw new IllegalStateException(what + ": data file " + f.path() + " (" + f.rows() + " rows) is missing. "
              + "Its rows cannot be read; re-run the stage that wrote the table with --force.");
        }
        FileStatus status = fs.getFileStatus(p);
        if (status.getLen() != f.bytes()) {
          throw new IllegalStateException(what + ": data file " + f.path() + " has " + status.getLen() + " bytes, the"
              + " snapshot recorded " + f.bytes() + ". Re-run the stage that wrote the table with --force.");
        }
      } catch (IOException e) {
        throw new UncheckedIOException(what + ": cannot check data file " + f.path(), e);
      }
    }
    LOG.info("Table {} at snapshot {}: {} files of run '{}' checked in {} ms", snapshot.table(), snapshot.snapshotId(),
        snapshot.files().size(), runId, (System.nanoTime() - start) / 1_000_000);
  }

  /** What the table's current snapshot holds of a run. */
  public TableSnapshot current(DatasetKind kind, String runId) {
    Table table = load(kind);
    return snapshot(table, kind, table.currentSnapshot().snapshotId(), runId);
  }

  /** Every data file of a snapshot, all runs. */
  public Set<String> files(DatasetKind kind, long snapshotId) {
    Set<String> out = new HashSet<>();
    try (CloseableIterable<FileScanTask> tasks = load(kind).newScan().useSnapshot(snapshotId).planFiles()) {
      tasks.forEach(t -> out.add(t.file().location()));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot list the files of " + name(kind) + " at snapshot " + snapshotId, e);
    }
    return out;
  }

  /** Points run {@code runId}'s tag at a snapshot (which holds the run's files as its manifest records them). */
  public void retag(DatasetKind kind, String runId, long snapshotId) {
    Table table = load(kind);
    var ref = table.refs().get(tag(runId));
    if (ref != null && ref.snapshotId() != snapshotId) {
      table.manageSnapshots().replaceTag(tag(runId), snapshotId).commit();
    } else if (ref == null) {
      table.manageSnapshots().createTag(tag(runId), snapshotId).commit();
    }
  }

  /** What a snapshot holds of a run: its rows and data files, as the table's metadata lists them. */
  private TableSnapshot snapshot(Table table, DatasetKind kind, long snapshotId, String runId) {
    List<TableSnapshot.DataFile> files = new ArrayList<>();
    try (CloseableIterable<FileScanTask> tasks = table.newScan().useSnapshot(snapshotId)
        .filter(Expressions.equal(DatasetKind.RUN_ID, runId)).planFiles()) {
      for (FileScanTask task : tasks) {
        files.add(new TableSnapshot.DataFile(task.file().location(), task.file().fileSizeInBytes(),
            task.file().recordCount()));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot list the files of " + name(kind) + " at snapshot " + snapshotId, e);
    }
    files.sort(Comparator.comparing(TableSnapshot.DataFile::path));
    long rows = files.stream().mapToLong(TableSnapshot.DataFile::rows).sum();
    return new TableSnapshot(name(kind), snapshotId, rows, files);
  }

  /** The table's Iceberg handle, fresh from the catalog. */
  public Table load(DatasetKind kind) {
    try {
      return Spark3Util.loadIcebergTable(spark, sparkName(kind));
    } catch (ParseException | NoSuchTableException e) {
      throw new IllegalStateException("No table " + name(kind) + " in catalog " + catalog, e);
    }
  }

  /** Whether the table exists yet. */
  public boolean exists(DatasetKind kind) {
    return spark.catalog().tableExists(sparkName(kind));
  }

  /**
   * Creates the namespace and the table if they do not exist: the declared schema plus run_id, partitioned by run
   * id, format version 2. Each Spark task writes its own files (distribution mode none: a write is of one run's
   * partition, so the hash distribution Iceberg asks for by default would shuffle every row into one task and one
   * writer). Vector columns get no column statistics (hundreds of values a row, never filtered on).
   */
  public void ensure(DatasetKind kind) {
    if (exists(kind)) {
      addMissingColumns(kind);
      return;
    }
    spark.sql("CREATE NAMESPACE IF NOT EXISTS " + catalog + "." + spec.namespace());
    StringBuilder properties = new StringBuilder("'format-version' = '2', 'write.distribution-mode' = 'none', "
        + "'write.parquet.compression-codec' = 'snappy'");
    kind.columns().stream().filter(c -> c.type() == ColumnType.FLOAT_ARRAY).forEach(c ->
        properties.append(", 'write.metadata.metrics.column.").append(c.name()).append("' = 'none'"));
    String ddl = SparkSchemas.of(kind).add(DatasetKind.RUN_ID, DataTypes.StringType, false).toDDL();
    spark.sql("CREATE TABLE IF NOT EXISTS " + sparkName(kind) + " (" + ddl + ") USING iceberg PARTITIONED BY ("
        + DatasetKind.RUN_ID + ") TBLPROPERTIES (" + properties + ")");
  }

  /**
   * A table made by an earlier version gets the columns the dataset has declared since (e.g. teacher-failures' teacher
   * identity), optional in the table: its earlier rows have none, new rows are checked where they are built.
   */
  private void addMissingColumns(DatasetKind kind) {
    StructType declared = SparkSchemas.of(kind);
    Set<String> present = Set.of(spark.table(sparkName(kind)).schema().fieldNames());
    List<String> missing = kind.columns().stream().map(c -> c.name()).filter(c -> !present.contains(c)).toList();
    if (!missing.isEmpty()) {
      LOG.info("Table {} gains the columns {} (rows written before have none)", sparkName(kind), missing);
      spark.sql("ALTER TABLE " + sparkName(kind) + " ADD COLUMNS (" + missing.stream()
          .map(c -> c + " " + declared.apply(c).dataType().sql()).collect(Collectors.joining(", ")) + ")");
      spark.catalog().refreshTable(sparkName(kind));
    }
  }

  /** The session extensions Iceberg's SQL (DELETE FROM, CALL, ...) needs: static, so set when a session starts. */
  static final String EXTENSIONS = "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions";
}
