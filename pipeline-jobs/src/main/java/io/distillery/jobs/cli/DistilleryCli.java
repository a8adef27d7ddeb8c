package io.distillery.jobs.cli;

import io.distillery.corpus.Split;
import io.distillery.jobs.evaluate.Promotions;
import io.distillery.jobs.export.CorpusExport;
import io.distillery.jobs.generate.CacheCompaction;
import io.distillery.jobs.generate.GenerateJob;
import io.distillery.jobs.pipeline.Pipeline;
import io.distillery.jobs.pipeline.TaskRegistry;
import io.distillery.jobs.purge.Purge;
import io.distillery.jobs.spark.HadoopFiles;
import io.distillery.jobs.spark.Progress;
import io.distillery.jobs.spark.SparkSessions;
import io.distillery.jobs.stage.StageContext;
import io.distillery.jobs.tables.TableMaintenance;
import io.distillery.jobs.task.StudentRecipe;
import io.distillery.jobs.transparency.Transparency;
import io.distillery.provenance.TermsForbidException;
import io.distillery.run.EvaluateDetails;
import io.distillery.run.EvaluationRecord;
import io.distillery.run.RunLayout;
import io.distillery.run.Stage;
import io.distillery.run.StageManifest;
import io.distillery.run.TransparencyReport;
import io.distillery.settings.DeviceUnavailableException;
import io.distillery.settings.ProgressMode;
import io.distillery.settings.Settings;
import io.distillery.settings.SettingsException;
import io.distillery.teacher.LanguageModelTeacher;
import io.distillery.teacher.server.TeacherServer;
import io.distillery.util.Version;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.apache.spark.SparkContext;
import org.apache.spark.SparkUserAppException;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The command line: {@code distillery ingest|generate|train|evaluate|run}, and {@code serve-teacher}, {@code export},
 * {@code promote}, {@code tables}, {@code cache}, {@code transparency}, {@code purge}. Parses and validates the settings, opens Spark, and hands both to
 * {@link Pipeline}. Exit codes: 0 done, 1 failed, 2 bad configuration or usage (or train.device.kind = gpu and no
 * GPU), 3 the student failed the promotion gate, 4 the teacher's terms forbid the run.
 */
@Command(name = "distillery", mixinStandardHelpOptions = true, versionProvider = DistilleryCli.VersionProvider.class,
    description = "Distributed knowledge distillation on Spark: teacher -> dataset -> student -> evaluation.",
    subcommands = {DistilleryCli.Ingest.class, DistilleryCli.Generate.class, DistilleryCli.Train.class,
        DistilleryCli.Evaluate.class, DistilleryCli.Run.class, DistilleryCli.ServeTeacher.class,
        DistilleryCli.Export.class, DistilleryCli.Promote.class, DistilleryCli.TablesCommand.class,
        DistilleryCli.CacheCommand.class, DistilleryCli.TransparencyCommand.class, DistilleryCli.PurgeCommand.class})
public final class DistilleryCli {
  private static final Logger LOG = LoggerFactory.getLogger(DistilleryCli.class);
  public static final int GATE_FAILED = 3;
  public static final int TERMS_FORBID = 4;
  static final Path DEFAULT_CONFIG = Path.of("conf", "application.conf");

  /**
   * Exits with the command's code. As the driver of a YARN application in cluster mode, main runs inside Spark's
   * application master, which reports success only when main returns and turns {@code System.exit} into a failure
   * without its code; there the code travels as Spark's user-exit exception, which the master records as the
   * application's diagnostics ("User application exited with status N") and deploy/submit-yarn.sh reads back.
   */
  public static void main(String[] args) throws SparkUserAppException {
    int code = execute(args);
    if (!inYarnClusterDriver()) {
      System.exit(code);
    } else if (code != 0) {
      throw new SparkUserAppException(code);
    }
  }

  /** Whether this JVM is the driver of a YARN application in cluster mode (the master sets these properties). */
  static boolean inYarnClusterDriver() {
    return "cluster".equals(System.getProperty("spark.submit.deployMode"))
        && System.getProperty("spark.master", "").startsWith("yarn");
  }

  /** Runs the command line and returns its exit code (tests call this). */
  public static int execute(String... args) {
    CommandLine cli = new CommandLine(new DistilleryCli()).setCaseInsensitiveEnumValuesAllowed(true);
    cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      PrintWriter err = commandLine.getErr();
      if (e instanceof SettingsException || e instanceof DeviceUnavailableException) {
        err.println(e.getMessage()); // a retry does not fix either: exit 2, as for bad usage
        return 2;
      }
      if (e instanceof TermsForbidException) {
        err.println(e.getMessage());
        return TERMS_FORBID;
      }
      if (isUserFacing(e)) {
        LOG.debug("distillery {} failed", commandLine.getCommandName(), e); // the message says what to do
      } else {
        LOG.error("distillery {} failed", commandLine.getCommandName(), e);
      }
      err.println("distillery " + commandLine.getCommandName() + " failed: " + rootMessage(e));
      return 1;
    });
    return cli.execute(args);
  }

  /** Errors our own code raised with an actionable message (missing stage, bad corpus column, accounting). */
  private static boolean isUserFacing(Throwable e) {
    return (e instanceof IllegalStateException || e instanceof IllegalArgumentException)
        && e.getStackTrace().length > 0 && e.getStackTrace()[0].getClassName().startsWith("io.distillery.");
  }

  private static String rootMessage(Throwable e) {
    String message = e.getMessage();
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof IllegalStateException || t instanceof IllegalArgumentException) {
        message = t.getMessage();
      }
    }
    return message;
  }

  /** Options every command shares. */
  static final class Common {
    @Option(names = "--config", paramLabel = "FILE",
        description = "Config file overriding reference.conf (default: conf/application.conf if present).")
    Path config;

    @Option(names = {"-s", "--set"}, paramLabel = "KEY=VALUE",
        description = "Override one key, e.g. --set train.epochs=3 (the 'distillery.' prefix is optional).")
    Map<String, String> overrides = new LinkedHashMap<>();

    @Option(names = "--run-id", paramLabel = "ID", description = "Same as --set run.id=ID.")
    String runId;

    @Option(names = "--force", description = "Run the stages even if this run already finished them.")
    boolean force;

    @Option(names = "--sign-off", paramLabel = "\"WHO: WHY\"", description = "Go ahead although the teacher's terms "
        + "do not allow the run's purpose (e.g. under a separate licence); recorded in the manifests and the model "
        + "card. Same as --set purpose.sign-off=...")
    String signOff;

    Settings settings() {
      Map<String, String> all = new LinkedHashMap<>();
      overrides.forEach((k, v) -> all.put(k.startsWith(Settings.ROOT + ".") ? k : Settings.ROOT + "." + k, v));
      if (runId != null) {
        all.put(Settings.Run.ID.full(), runId);
      }
      if (signOff != null) {
        all.put(Settings.Purpose.SIGN_OFF.full(), signOff);
      }
      Optional<Path> file = Optional.ofNullable(config)
          .or(() -> Files.isRegularFile(DEFAULT_CONFIG) ? Optional.of(DEFAULT_CONFIG) : Optional.empty());
      file.ifPresent(f -> LOG.info("Config: {} over reference.conf", f.toAbsolutePath()));
      return Settings.load(file, all);
    }
  }

  /** A command that works on a run in a Spark session: opens it from the settings and stops it when done. */
  abstract static class SparkCommand implements Callable<Integer> {
    @Mixin
    Common common;

    @Spec
    CommandLine.Model.CommandSpec spec;

    /** The command's work; returns its exit code. */
    abstract int run(Settings settings, SparkSession spark, PrintWriter out) throws Exception;

    @Override
    public Integer call() throws Exception {
      Settings settings = common.settings();
      SparkSession spark = SparkSessions.create(settings);
      PrintWriter out = spec.commandLine().getOut();
      Optional<Progress> progress = progress(settings.progress(), spark.sparkContext(), spec.commandLine().getErr());
      try {
        return run(settings, spark, out);
      } finally {
        progress.ifPresent(Progress::close);
        out.flush();
        spark.stop();
      }
    }
  }

  /**
   * Progress lines for a stage command: on an interactive terminal one line on stderr, redrawn every second;
   * elsewhere (YARN, Airflow, a pipe) a log line every progress.interval.
   */
  static Optional<Progress> progress(Settings.ProgressLines lines, SparkContext sc, PrintWriter err) {
    boolean terminal = lines.mode() == ProgressMode.TERMINAL
        || lines.mode() == ProgressMode.AUTO && System.console() != null;
    if (lines.mode() == ProgressMode.OFF) {
      return Optional.empty();
    }
    if (!terminal) {
      return Optional.of(Progress.report(sc, Progress.log(), lines.interval()));
    }
    return Optional.of(Progress.report(sc, Progress.terminal(err), Duration.ofSeconds(1)));
  }

  abstract static class StageCommand extends SparkCommand {
    abstract List<Stage> stages();

    @Override
    int run(Settings settings, SparkSession spark, PrintWriter out) throws Exception {
      Map<Stage, StageManifest> done = Pipeline.run(settings, spark, stages(), common.force);
      for (Map.Entry<Stage, StageManifest> e : done.entrySet()) {
        out.printf("%-9s %s%n", e.getKey().label(), e.getValue().counts());
      }
      RunLayout layout = RunLayout.of(settings.run());
      out.printf("run '%s' under %s%n", settings.run().id(), layout.root());
      if (HadoopFiles.exists(spark, layout.transparency())) {
        out.printf("transparency report: %s%n", layout.transparencyPage());
      }
      StageManifest evaluate = done.get(Stage.EVALUATE);
      if (evaluate != null) {
        EvaluateDetails verdict = evaluate.details(EvaluateDetails.class);
        out.printf("report: %s%n", layout.report());
        if (!verdict.gatePassed()) {
          out.printf("promotion gate FAILED: %s%n", verdict.gateFailures());
          return GATE_FAILED;
        }
        out.println("promotion gate passed");
      }
      return 0;
    }
  }

  @Command(name = "ingest", description = "Corpus -> prompts dataset (and quarantine).")
  static final class Ingest extends StageCommand {
    @Override
    List<Stage> stages() {
      return List.of(Stage.INGEST);
    }
  }

  @Command(name = "generate", description = "Prompts -> teacher answers with provenance (and failures).")
  static final class Generate extends StageCommand {
    @Option(names = "--dry-run", description = "Remote teachers: send nothing; print how many prompts the response "
        + "cache does not answer and the tokens and cost of asking them (needs the run's prompts: ingest first).")
    boolean dryRun;

    @Override
    List<Stage> stages() {
      return List.of(Stage.GENERATE);
    }

    @Override
    int run(Settings settings, SparkSession spark, PrintWriter out) throws Exception {
      if (!dryRun) {
        return super.run(settings, spark, out);
      }
      GenerateJob generate = new GenerateJob(TaskRegistry.of(settings.task()).generation());
      out.println(StageManifest.json().writerWithDefaultPrettyPrinter().writeValueAsString(
          generate.estimate(StageContext.of(settings, spark))));
      return 0;
    }
  }

  @Command(name = "train", description = "Teacher answers -> student model (parameter averaging on Spark).")
  static final class Train extends StageCommand {
    @Override
    List<Stage> stages() {
      return List.of(Stage.TRAIN);
    }
  }

  @Command(name = "evaluate", description = "Student vs teacher on held-out rows -> metrics, report, gate.")
  static final class Evaluate extends StageCommand {
    @Override
    List<Stage> stages() {
      return List.of(Stage.EVALUATE);
    }
  }

  @Command(name = "run", description = "All four stages in order; finished stages of the same run are reused.")
  static final class Run extends StageCommand {
    @Override
    List<Stage> stages() {
      return List.of(Stage.values());
    }
  }

  @Command(name = "serve-teacher", description = "Serve the configured teacher over an OpenAI-compatible HTTP "
      + "API (settings serve.*: 127.0.0.1:8080 by default) until stopped.")
  static final class ServeTeacher implements Callable<Integer> {
    @Mixin
    Common common;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--student", description = "Serve the run's trained student (models/RUN/student.zip of "
        + "--run-id) instead of the teacher, on the same endpoints: task language-model.")
    boolean student;

    @Override
    public Integer call() throws InterruptedException {
      Settings settings = common.settings();
      String tokenEnv = settings.serve().tokenEnv();
      Optional<String> token = tokenEnv.isEmpty() ? Optional.empty()
          : Optional.ofNullable(System.getenv(tokenEnv)).filter(t -> !t.isBlank());
      if (!tokenEnv.isEmpty() && token.isEmpty()) {
        throw new SettingsException(List.of(Settings.Serve.TOKEN_ENV.full() + ": the environment variable " + tokenEnv
            + " is not set (or empty); export the bearer token there, or set " + Settings.Serve.TOKEN_ENV.path()
            + " = \"\""));
      }
      TeacherServer server = student ? TeacherServer.start(settings, token, trainedStudent(settings))
          : TeacherServer.start(settings, token);
      CountDownLatch stopped = new CountDownLatch(1);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        server.close();
        stopped.countDown();
      }, "distillery-serve-teacher-stop"));
      PrintWriter out = spec.commandLine().getOut();
      out.printf("serving %s on http://%s:%d (Ctrl-C stops)%n", server.modelName(),
          server.address().getHostString(), server.address().getPort());
      out.flush();
      stopped.await();
      return 0;
    }
  }

  /** The run's trained student as a language model, read from the run root. */
  static LanguageModelTeacher trainedStudent(Settings settings) {
    StudentRecipe<?> recipe = TaskRegistry.of(settings.task()).student().orElseThrow(() -> new SettingsException(
        List.of("--student: task " + settings.task() + " trains no student")));
    String path = RunLayout.of(settings.run()).studentModel();
    SparkSession spark = SparkSessions.create(settings);
    byte[] bytes;
    try {
      if (!HadoopFiles.exists(spark, path)) {
        throw new IllegalStateException("Run '" + settings.run().id() + "' has no trained student at " + path
            + ": run `distillery train` (or `distillery run`) with the same --run-id first");
      }
      bytes = HadoopFiles.read(spark, path);
    } finally {
      spark.stop();
    }
    return recipe.servable(bytes, settings).orElseThrow(() -> new SettingsException(List.of("--student: task "
        + settings.task() + "'s student is not a language model; only task language-model's can be served")));
  }

  @Command(name = "promote", description = "Promotes the student of an earlier run again (a rollback): "
      + "--run-id names it; its gate must have passed and its model must be unchanged. Recorded with the reason in "
      + "models/promotions.jsonl.")
  static final class Promote extends SparkCommand {
    @Option(names = "--reason", required = true, paramLabel = "TEXT", description = "Why, for the history.")
    String reason;

    @Override
    int run(Settings settings, SparkSession spark, PrintWriter out) {
      if (common.runId == null) {
        throw new IllegalArgumentException("promote needs --run-id: the run whose student to promote");
      }
      EvaluationRecord p = new Promotions(spark, RunLayout.of(settings.run())).promoteRun(common.runId,
          "rollback: " + reason);
      out.printf("promoted the student of run '%s' (%s, sha256 %s)%n", p.runId(), p.studentModel(),
          p.studentModelSha256());
      return 0;
    }
  }

  @Command(name = "transparency", description = "Writes the run's transparency report again from what it recorded "
      + "(reports/RUN/transparency.json and .html; `run` and the stage commands write it too): teachers, terms, "
      + "sign-offs, tokens and cost, the data files' hashes, the code's commit, the evaluation, the EU public summary.")
  static final class TransparencyCommand extends SparkCommand {
    @Override
    int run(Settings settings, SparkSession spark, PrintWriter out) {
      TransparencyReport r = Transparency.write(StageContext.of(settings, spark));
      RunLayout layout = RunLayout.of(settings.run());
      out.printf("run '%s': %d teacher(s), %d datasets, %d data files hashed%n", r.runId(), r.teachers().size(),
          r.datasets().size(), r.datasets().stream().mapToInt(d -> d.files().size()).sum());
      out.printf("%s%n%s%n", layout.transparency(), layout.transparencyPage());
      return 0;
    }
  }

  @Command(name = "purge", description = "Removes a teacher's answers from every dataset of every run under the "
      + "root (one atomic rewrite per partition), drops them from the response cache, taints the models trained on "
      + "them (a tainted model cannot be promoted) and logs it in audit/purges.jsonl; `run` then retrains without "
      + "them. A purge that was killed is finished by running it again.")
  static final class PurgeCommand extends SparkCommand {
    @ArgGroup(exclusive = true, multiplicity = "1")
    Selection selection;

    static final class Selection {
      @Option(names = "--teacher", paramLabel = "NAME", description = "Every answer of this teacher (teacher.name).")
      String teacher;

      @Option(names = "--terms", paramLabel = "ID", description = "Every answer that came under these terms.")
      String terms;

      @Option(names = "--before", paramLabel = "DATE", description = "Every answer made before this date "
          + "(yyyy-MM-dd, UTC) or instant (ISO-8601).")
      String before;
    }

    @Option(names = "--dry-run", description = "Say what would be removed, change nothing.")
    boolean dryRun;

    @Option(names = "--by", paramLabel = "WHO", description = "Who asks, for the audit log (default: the OS user).")
    String by = System.getProperty("user.name", "unknown");

    @Option(names = "--reason", paramLabel = "TEXT", description = "Why, for the audit log and the models' taint.")
    String reason = "";

    @Override
    int run(Settings settings, SparkSession spark, PrintWriter out) {
      Purge.Request request = selection.teacher != null ? new Purge.Request(Purge.By.TEACHER, selection.teacher,
          dryRun, by, reason) : selection.terms != null ? new Purge.Request(Purge.By.TERMS, selection.terms, dryRun,
          by, reason) : new Purge.Request(Purge.By.BEFORE, selection.before, dryRun, by, reason);
      Purge.Outcome o = Purge.purge(settings, spark, request);
      out.printf("%s%s under %s%n", o.dryRun() ? "dry run, nothing changed: " : "purge " + o.id() + ": ", o.what(),
          RunLayout.of(settings.run()).root());
      o.rows().forEach((run, byDataset) -> byDataset.forEach((dataset, rows) ->
          out.printf("  run %-24s %-26s %,d rows%n", run, dataset, rows)));
      out.printf("  %,d rows in %d runs; %,d answers in the response cache%n", o.totalRows(), o.rows().size(),
          o.cacheEntries());
      if (!o.dryRun()) {
        out.printf("  models tainted: %s%s%n", o.tainted().isEmpty() ? "none" : String.join(", ", o.tainted()),
            o.promotedTainted() ? " (the promoted student is one: promote another, or run again to retrain)" : "");
        out.printf("  runs moved onto snapshots without the old files: %s; data files deleted: %d%n",
            o.rebased().isEmpty() ? "none" : String.join(", ", o.rebased()), o.dataFilesDeleted());
        o.rows().keySet().forEach(run -> out.printf("  then: distillery run --run-id %s (retrains without them), "
            + "distillery transparency --run-id %s%n", run, run));
      }
      return 0;
    }
  }

  @Command(name = "export", description = "A language-model run's corpus (teacher-completions) as fine-tuning "
      + "data, written partition by partition: JSONL or Parquet, chat style (OpenAI's messages) or completion style "
      + "(prompt, completion).")
  static final class Export extends SparkCommand {
    @Option(names = "--format", defaultValue = "jsonl", description = "jsonl or parquet (default: ${DEFAULT-VALUE}).")
    CorpusExport.Format format;

    @Option(names = "--style", defaultValue = "chat",
        description = "chat ({\"messages\": [user, assistant]}) or completion ({\"prompt\", \"completion\"}); "
            + "default: ${DEFAULT-VALUE}.")
    CorpusExport.Style style;

    @Option(names = "--provenance", description = "Also every provenance column (teacher, model hash, terms, "
        + "sampling parameters and seed, finish reason, split, ...).")
    boolean provenance;

    @Option(names = "--split", paramLabel = "SPLIT", description = "Only train, validation or test (default: all).")
    Split split;

    @Option(names = "--output", required = true, paramLabel = "DIR",
        description = "A directory that does not exist yet (local, hdfs:// or any Hadoop file system).")
    String output;

    @Override
    int run(Settings settings, SparkSession spark, PrintWriter out) {
      long rows = CorpusExport.export(settings, spark, new CorpusExport.Request(format, style, provenance,
          Optional.ofNullable(split), output));
      out.printf("exported %d rows of run '%s' to %s (%s, %s style%s)%n", rows, settings.run().id(), output,
          format.configName(), style.configName(), provenance ? ", with provenance" : "");
      return 0;
    }
  }

  @Command(name = "tables", description = "The datasets' Iceberg tables: maintain (expire snapshots, remove orphan "
      + "files) or import (a run made before the datasets were tables).",
      subcommands = {TablesCommand.Maintain.class, TablesCommand.Import.class})
  static final class TablesCommand {

    @Command(name = "maintain", description = "Expire snapshots older than tables.maintain.snapshot-retention that "
        + "no run's manifest refers to, then delete orphan files older than tables.maintain.orphan-retention.")
    static final class Maintain extends SparkCommand {
      @Override
      int run(Settings settings, SparkSession spark, PrintWriter out) {
        for (TableMaintenance.Outcome o : TableMaintenance.maintain(settings, spark)) {
          out.printf("%-40s runs kept %d, snapshots expired %d, data files deleted %d, orphan files deleted %d%n",
              o.table(), o.runsKept(), o.snapshotsExpired(), o.dataFilesDeleted(), o.orphanFilesDeleted());
        }
        return 0;
      }
    }

    @Command(name = "import", description = "Write a run made before the datasets were tables (its Parquet "
        + "directories under datasets/) into the tables, and record the snapshots in its manifests.")
    static final class Import extends SparkCommand {
      @Override
      int run(Settings settings, SparkSession spark, PrintWriter out) {
        TableMaintenance.importRun(settings, spark).forEach((table, rows) ->
            out.printf("%-40s %d rows of run '%s'%n", table, rows, settings.run().id()));
        out.println("Later stages of the run see changed manifests: `distillery run` runs train and evaluate again "
            + "(no teacher pass).");
        return 0;
      }
    }
  }

  @Command(name = "cache", description = "The remote teachers' response cache (RUN_ROOT/cache/teacher-responses).",
      subcommands = {CacheCommand.Compact.class})
  static final class CacheCommand {

    @Command(name = "compact", description = "Merge the cache's segments into a few files, keeping each request's "
        + "newest answer younger than teacher.http.cache-retention; a later generate reads the compacted form.")
    static final class Compact extends SparkCommand {
      @Override
      int run(Settings settings, SparkSession spark, PrintWriter out) {
        String dir = RunLayout.of(settings.run()).responseCache();
        CacheCompaction.Outcome o = CacheCompaction.compact(spark, dir, settings.teacher().http().cacheRetention(),
            Instant.now());
        Duration retention = settings.teacher().http().cacheRetention();
        out.printf("%s: %d segments, %d lines -> %d files, %d answers kept, %d older than %s dropped%n", dir,
            o.segmentsBefore(), o.linesRead(), o.segmentsAfter(), o.kept(), o.expired(),
            retention.toSeconds() % 86_400 == 0 ? retention.toDays() + " days" : retention);
        return 0;
      }
    }
  }

  static final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"distillery " + Version.current()};
    }
  }
}
