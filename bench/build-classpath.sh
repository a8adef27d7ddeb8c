#!/usr/bin/env bash
# Sourced by the benchmarks that run a class from a module's test sources: builds everything, compiles that
# module's tests and writes its test classpath.
#   build_test_classpath MODULE FILE    # e.g. build_test_classpath pipeline-jobs "$out/test-classpath.txt"
build_test_classpath() {
  echo "bench: building..." >&2
  mvn -B -q -ntp install -DskipTests
  mvn -B -q -ntp -o test-compile -pl "$1"
  mvn -B -q -ntp -o dependency:build-classpath -pl "$1" -Dmdep.includeScope=test -Dmdep.outputFile="$2" >/dev/null
}
