package io.distillery.jobs.spark;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;

/** Small files (manifests, models, reports) on any Hadoop FileSystem: local, HDFS, S3A. */
public final class HadoopFiles {
  private HadoopFiles() {}

  private static FileSystem fs(SparkSession spark, Path path) throws IOException {
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    return path.getFileSystem(conf);
  }

  /** The path with its file system's scheme and, for a relative local path, made absolute. */
  public static String qualified(SparkSession spark, String path) {
    try {
      Path p = new Path(path);
      return fs(spark, p).makeQualified(p).toString();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot resolve " + path, e);
    }
  }

  public static boolean exists(SparkSession spark, String path) {
    try {
      Path p = new Path(path);
      return fs(spark, p).exists(p);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot check " + path, e);
    }
  }

  public static byte[] read(SparkSession spark, String path) {
    Path p = new Path(path);
    try (InputStream in = fs(spark, p).open(p)) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + path, e);
    }
  }

  /** Writes to a temporary name and renames, so readers never see half a file. */
  public static void write(SparkSession spark, String path, byte[] bytes) {
    Path p = new Path(path);
    Path tmp = new Path(p.getParent(), "." + p.getName() + ".tmp");
    try {
      FileSystem fs = fs(spark, p);
      fs.mkdirs(p.getParent());
      try (OutputStream out = fs.create(tmp, true)) {
        out.write(bytes);
      }
      if (fs.exists(p)) {
        fs.delete(p, false);
      }
      if (!fs.rename(tmp, p)) {
        throw new IOException("rename " + tmp + " -> " + p + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + path, e);
    }
  }

  /** The names of the directories directly under {@code path}, sorted (none if it does not exist). */
  public static List<String> list(SparkSession spark, String path) {
    try {
      Path p = new Path(path);
      FileSystem fs = fs(spark, p);
      if (!fs.exists(p)) {
        return List.of();
      }
      return Arrays.stream(fs.listStatus(p)).filter(FileStatus::isDirectory).map(s -> s.getPath().getName())
          .sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot list " + path, e);
    }
  }

  public static void mkdirs(SparkSession spark, String path) {
    try {
      Path p = new Path(path);
      fs(spark, p).mkdirs(p);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot create " + path, e);
    }
  }

  public static void delete(SparkSession spark, String path) {
    try {
      Path p = new Path(path);
      fs(spark, p).delete(p, true);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot delete " + path, e);
    }
  }
}
