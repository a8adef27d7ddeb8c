#!/usr/bin/env bash
# Distillery benchmark: one training step of the default embed student, three ways side by side in one JVM
# (DL4J's sequence embedding + pooling with dense Adam; the one-layer bag with dense Adam; the bag with lazy table
# updates, the default). Prints ms per step and ratios.
#   bench/train-step.sh [STEPS] [ROUNDS]     # default 30 minibatches, 5 rounds
set -euo pipefail
home="$(cd "$(dirname "$0")/.." && pwd)"
cd "$home"
out="$home/bench/out"
mkdir -p "$out"
# shellcheck source=bench/build-classpath.sh
source "$home/bench/build-classpath.sh"
build_test_classpath pipeline-core "$out/core-test-classpath.txt"
# shellcheck disable=SC2046
java -Xmx4g $(bin/jvm-flags) -Dlog4j2.configurationFile="$home/conf/log4j2.properties" \
  -cp "pipeline-core/target/test-classes:pipeline-core/target/classes:$(cat "$out/core-test-classpath.txt")" \
  io.distillery.bench.TrainStepBench "$@" 2> "$out/train-step.log"
