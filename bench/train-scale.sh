#!/usr/bin/env bash
# Distillery benchmark: parameter-averaging training across a cluster, against one JVM. The default embed run's
# training minibatches (ingest and generate run once, into bench/out/train-scale, and are reused), trained one epoch
# at a time: in this JVM with plain fit, and by the train stage's ParameterAveragingTrainingMaster on a standalone
# cluster of two one-core Workers with 1 and 2 workers, 2 workers at each averaging frequency. Prints samples/s
# and the ratios to the single JVM (median of ROUNDS alternating rounds, after a warm-up round).
#   bench/train-scale.sh [ROUNDS] [FREQUENCIES]     # default 3 rounds, frequencies 10,30,120
set -euo pipefail
home="$(cd "$(dirname "$0")/.." && pwd)"
cd "$home"
out="$home/bench/out"
mkdir -p "$out"
# shellcheck source=bench/build-classpath.sh
source "$home/bench/build-classpath.sh"
build_test_classpath pipeline-jobs "$out/test-classpath.txt"
# Absolute classpath entries: the cluster's executors get this JVM's classpath and run in other directories.
# One ND4J thread per JVM, as in each executor (deploy/submit-yarn.sh's ND4J_THREADS default).
export OMP_NUM_THREADS=1
# shellcheck disable=SC2046
java -Xmx6g $(bin/jvm-flags) -Dlog4j2.configurationFile="$home/conf/log4j2.properties" -Dspark.ui.enabled=false \
  -Dtest.repo.root="$home" \
  -cp "$home/pipeline-jobs/target/test-classes:$home/pipeline-jobs/target/classes:$home/pipeline-core/target/classes:$(cat "$out/test-classpath.txt")" \
  io.distillery.bench.TrainScaleBench "$out/train-scale" "${1:-3}" "${2:-10,30,120}" 2> "$out/train-scale.log"
