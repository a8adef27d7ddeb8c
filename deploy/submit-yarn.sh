#!/usr/bin/env bash
# Submits a Distillery stage (or the whole run) to YARN.
#   deploy/submit-yarn.sh run --config conf/examples/yarn-cluster.conf --run-id nightly-$(date +%F)
#   deploy/submit-yarn.sh generate --config my.conf --run-id nightly-2026-11-23
# Needs: spark-submit on PATH (Spark 3.5, Scala 2.12), HADOOP_CONF_DIR pointing at the cluster, and the
# application jar built with `mvn -Pdist package -DskipTests` (add -Pcuda for GPU executors).
# JVM flags for driver and executors come from conf/jvm.properties (the one place they are declared).
# ND4J_THREADS (default 1): ND4J's OpenMP threads per JVM task slot; Spark already runs one task per executor core,
# and small students' ops slow down when each task's threads compete for the same cores (bench/README.md).
# APP_JAR: the application jar (default: the one mvn -Pdist package built here), a local path or a URI such as
# hdfs:///apps/distillery/pipeline-jobs-all.jar (uploaded once; YARN's nodes cache it, which pays for the 1.36 GB
# -Pcuda jar).
# Sizes are environment variables: EXECUTORS, EXECUTOR_CORES, EXECUTOR_MEMORY, EXECUTOR_OFFHEAP, DRIVER_MEMORY, QUEUE.
# DEPLOY_MODE (default cluster; or client, the driver here). Either way distillery's exit code is this script's
# (2: bad configuration, 3: the gate refused the student, 4: the terms forbid the run): in cluster mode the driver
# leaves it in the application's YARN diagnostics ("User application exited with status N"), where spark-submit,
# which exits 1 for any failed application, prints it, and this script reads it back.
# One application attempt by default: a failed night is retried by its scheduler (exit 1 only), and a re-run with
# the same run id resumes from the last finished stage; a second YARN attempt would also repeat a refused gate.
# GPU executors (YARN 3.1+ with its GPU resource plugin; the jar built with -Pcuda): GPUS=N asks N GPUs per
# executor (spark.executor.resource.gpu.amount, which Spark asks YARN for as yarn.io/gpu) and gives each of the
# executor's EXECUTOR_CORES tasks an equal share; GPU_DISCOVERY is the discovery script on the nodes (default
# /opt/distillery/gpu-discovery.sh: install deploy/gpu-discovery.sh there). Distillery's executor plugin runs each
# task's ND4J on the task's GPU and the ONNX teacher on the executor's first; CUDA numbers devices as nvidia-smi does
# (CUDA_DEVICE_ORDER=PCI_BUS_ID). Train uses a GPU, and generate with teacher.device.kind = gpu: submit those on
# their own with GPUS set, and the other stages without (GPUS=1 deploy/submit-yarn.sh train ...).
# Lineage for the platform (OpenLineage: Marquez, DataHub, Atlas): OPENLINEAGE_URL=http://marquez:5000 adds the
# OpenLineage Spark listener, posting each job's events to OPENLINEAGE_URL/api/v1/lineage under the namespace
# OPENLINEAGE_NAMESPACE (default distillery); OPENLINEAGE_JAR is its jar (io.openlineage:openlineage-spark_2.12,
# 1.36.0 tested; a path or a URI), shipped with --jars. The datasets generate writes carry Distillery's
# distillery_teacher facet: the teacher, its version, model and terms, and the run.
# --conf KEY=VALUE (any number): passed to spark-submit as they are, after the defaults (so they win), e.g.
# --conf spark.yarn.maxAppAttempts=2.
# Everything else goes to distillery (--config FILE is shipped with --files, as is conf/log4j2.properties).
# A remote teacher's API key on YARN, best first:
#   - a Hadoop credential provider (teacher.http.api-key-alias, credential-providers = a JCEKS keystore on HDFS):
#     the driver and each executor read it themselves; nothing secret is in the Spark config or the environment;
#   - API_KEY_ENV=NAME (an environment variable set where this script runs, named as teacher.http.api-key-env):
#     forwarded to the application master and the executors (spark.yarn.appMasterEnv.NAME, spark.executorEnv.NAME)
#     and added to spark.redaction.regex, so the Spark UI and event logs show it redacted.
set -euo pipefail
home="$(cd "$(dirname "$0")/.." && pwd)"
jar="${APP_JAR:-$(ls "$home"/pipeline-jobs/target/pipeline-jobs-*-all.jar 2>/dev/null | head -n 1 || true)}"
if [ -z "$jar" ] || { [[ "$jar" != *://* ]] && [ ! -f "$jar" ]; }; then
  echo "deploy/submit-yarn.sh: no application jar; build it with: mvn -Pdist package -DskipTests" >&2
  exit 2
fi
# Logging: conf/log4j2.properties, shipped, read from each container's working directory.
flags="$("$home/bin/jvm-flags") -Dlog4j2.configurationFile=log4j2.properties"
# --config FILE is read by the driver: ship it and pass its base name (cluster mode runs the driver remotely).
args=()
files=("$home/conf/log4j2.properties")
spark_conf=()
while [ $# -gt 0 ]; do
  if [ "$1" = "--config" ] && [ $# -ge 2 ]; then
    files+=("$2"); args+=("--config" "$(basename "$2")"); shift 2
  elif [ "$1" = "--conf" ] && [ $# -ge 2 ]; then
    case "$2" in
      *=*) spark_conf+=(--conf "$2"); shift 2 ;;
      *) echo "deploy/submit-yarn.sh: --conf needs KEY=VALUE, was '$2'" >&2; exit 2 ;;
    esac
  else
    args+=("$1"); shift
  fi
done
if [ -n "${API_KEY_ENV:-}" ]; then
  if [ -z "${!API_KEY_ENV:-}" ]; then
    echo "deploy/submit-yarn.sh: API_KEY_ENV=$API_KEY_ENV, but \$$API_KEY_ENV is not set here" >&2
    exit 2
  fi
  spark_conf+=(--conf "spark.yarn.appMasterEnv.$API_KEY_ENV=${!API_KEY_ENV}"
    --conf "spark.executorEnv.$API_KEY_ENV=${!API_KEY_ENV}"
    --conf "spark.redaction.regex=(?i)secret|password|token|access[.]key|$API_KEY_ENV")
fi
if [ -n "${GPUS:-}" ]; then
  cores="${EXECUTOR_CORES:-4}"
  if ! [[ "$GPUS" =~ ^[1-9][0-9]*$ ]] || { [ $((cores % GPUS)) -ne 0 ] && [ $((GPUS % cores)) -ne 0 ]; }; then
    echo "deploy/submit-yarn.sh: GPUS=$GPUS must be a whole number of GPUs per executor that divides, or is a" \
      "multiple of, EXECUTOR_CORES=$cores (each task gets an equal share)" >&2
    exit 2
  fi
  spark_conf=(--conf "spark.executor.resource.gpu.amount=$GPUS"
    --conf "spark.task.resource.gpu.amount=$(awk -v g="$GPUS" -v c="$cores" 'BEGIN { print g / c }')"
    --conf "spark.executor.resource.gpu.discoveryScript=${GPU_DISCOVERY:-/opt/distillery/gpu-discovery.sh}"
    --conf "spark.executorEnv.CUDA_DEVICE_ORDER=PCI_BUS_ID"
    ${spark_conf[@]+"${spark_conf[@]}"})
fi
if [ -n "${OPENLINEAGE_URL:-}" ]; then
  if [ -z "${OPENLINEAGE_JAR:-}" ]; then
    echo "deploy/submit-yarn.sh: OPENLINEAGE_URL is set, so OPENLINEAGE_JAR must name the OpenLineage Spark" \
      "listener's jar (io.openlineage:openlineage-spark_2.12:1.36.0)" >&2
    exit 2
  fi
  spark_conf=(--jars "$OPENLINEAGE_JAR"
    --conf spark.extraListeners=io.openlineage.spark.agent.OpenLineageSparkListener
    --conf spark.openlineage.transport.type=http
    --conf "spark.openlineage.transport.url=$OPENLINEAGE_URL"
    --conf "spark.openlineage.namespace=${OPENLINEAGE_NAMESPACE:-distillery}"
    --conf spark.openlineage.capturedProperties=spark.master,spark.app.name,distillery.lineage.teacher
    ${spark_conf[@]+"${spark_conf[@]}"})
fi
file_opt=(--files "$(IFS=,; echo "${files[*]}")")
submit=(spark-submit
  --master yarn --deploy-mode "${DEPLOY_MODE:-cluster}"
  --name "distillery-${args[0]:-run}"
  --queue "${QUEUE:-default}"
  --class io.distillery.jobs.cli.DistilleryCli
  --num-executors "${EXECUTORS:-8}" --executor-cores "${EXECUTOR_CORES:-4}"
  --executor-memory "${EXECUTOR_MEMORY:-8g}" --driver-memory "${DRIVER_MEMORY:-8g}"
  --conf spark.executor.memoryOverhead="${EXECUTOR_OFFHEAP:-4g}"
  --conf "spark.driver.extraJavaOptions=$flags"
  --conf "spark.executor.extraJavaOptions=$flags"
  --conf spark.executorEnv.OMP_NUM_THREADS="${ND4J_THREADS:-1}"
  --conf spark.yarn.appMasterEnv.OMP_NUM_THREADS="${ND4J_THREADS:-1}"
  --conf spark.yarn.maxAppAttempts=1
  "${file_opt[@]}"
  ${spark_conf[@]+"${spark_conf[@]}"}
  "$jar" "${args[@]}")
if [ "${DEPLOY_MODE:-cluster}" != cluster ]; then
  exec "${submit[@]}"
fi
# spark-submit's log (stderr) goes on to stderr, through a copy in which the driver's exit code is found.
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
{ "${submit[@]}" 2>&1 1>&3 | tee "$log" >&2; } 3>&1
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ]; then
  code="$(grep -o 'User application exited with status [0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*$' || true)"
  if [ -n "$code" ] && [ "$code" -ne 0 ]; then
    status=$code
  fi
fi
exit "$status"
