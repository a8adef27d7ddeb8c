#!/usr/bin/env bash
# Submits a Distillery stage (or the whole run) to YARN.
#   deploy/submit-yarn.sh run --config conf/examples/yarn-cluster.conf --run-id nightly-$(date +%F)
#   deploy/submit-yarn.sh generate --config my.conf --run-id nightly-2026-11-23
# Needs: spark-submit on PATH (Spark 3.5, Scala 2.12), HADOOP_CONF_DIR pointing at the cluster, and the
# application jar built with `mvn -Pdist package -DskipTests` (add -Pcuda for GPU executors).
# JVM flags for driver and executors come from conf/jvm.properties (the one place they are declared).
# ND4J_THREADS (default 1): ND4J's OpenMP threads per JVM task slot; Spark already runs one task per executor core,
# and small students' ops slow down when each task's threads compete for the same cores (bench/README.md).
# Sizes are environment variables: EXECUTORS, EXECUTOR_CORES, EXECUTOR_MEMORY, EXECUTOR_OFFHEAP, DRIVER_MEMORY, QUEUE.
set -euo pipefail
home="$(cd "$(dirname "$0")/.." && pwd)"
jar=$(ls "$home"/pipeline-jobs/target/pipeline-jobs-*-all.jar 2>/dev/null | head -n 1 || true)
if [ -z "$jar" ]; then
  echo "deploy/submit-yarn.sh: no application jar; build it with: mvn -Pdist package -DskipTests" >&2
  exit 2
fi
flags="$("$home/bin/jvm-flags")"
# --config FILE is read by the driver: ship it and pass its base name (cluster mode runs the driver remotely).
args=()
files=()
while [ $# -gt 0 ]; do
  if [ "$1" = "--config" ] && [ $# -ge 2 ]; then
    files+=("$2"); args+=("--config" "$(basename "$2")"); shift 2
  else
    args+=("$1"); shift
  fi
done
file_opt=()
[ ${#files[@]} -gt 0 ] && file_opt=(--files "$(IFS=,; echo "${files[*]}")")
exec spark-submit \
  --master yarn --deploy-mode cluster \
  --name "distillery-${args[0]:-run}" \
  --queue "${QUEUE:-default}" \
  --class io.distillery.jobs.cli.DistilleryCli \
  --num-executors "${EXECUTORS:-8}" --executor-cores "${EXECUTOR_CORES:-4}" \
  --executor-memory "${EXECUTOR_MEMORY:-8g}" --driver-memory "${DRIVER_MEMORY:-8g}" \
  --conf spark.executor.memoryOverhead="${EXECUTOR_OFFHEAP:-4g}" \
  --conf "spark.driver.extraJavaOptions=$flags" \
  --conf "spark.executor.extraJavaOptions=$flags" \
  --conf spark.executorEnv.OMP_NUM_THREADS="${ND4J_THREADS:-1}" \
  --conf spark.yarn.appMasterEnv.OMP_NUM_THREADS="${ND4J_THREADS:-1}" \
  "${file_opt[@]}" \
  "$jar" "${args[@]}"
