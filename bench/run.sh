#!/usr/bin/env bash
# Distillery benchmark: one cold `run` on the embedded default, then side-by-side ratios on what it made.
#   bench/run.sh            # prints the ratios; outputs under bench/out/ (ignored by git)
# Ratios, not absolute times, are the signal on a shared machine.
set -euo pipefail
home="$(cd "$(dirname "$0")/.." && pwd)"
cd "$home"
out="$home/bench/out"
mkdir -p "$out"
# shellcheck source=bench/build-classpath.sh
source "$home/bench/build-classpath.sh"
build_test_classpath pipeline-jobs "$out/test-classpath.txt"

root="$out/work-$(date +%s)"
run_id="bench"
echo "bench: cold run of the default pipeline (bin/distillery run) into $root" >&2
start=$(date +%s.%N)
set +e
bin/distillery run --run-id "$run_id" --set run.root="$root" > "$out/run.log" 2>&1
rc=$?
set -e
end=$(date +%s.%N)
wall=$(python3 -c "print(f'{$end - $start:.1f}')")
if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then
  echo "bench: the run failed (exit $rc); see $out/run.log" >&2
  exit "$rc"
fi

# shellcheck disable=SC2046
java -Xmx6g $(bin/jvm-flags) -Dlog4j2.configurationFile="$home/conf/log4j2.properties" \
  -cp "pipeline-jobs/target/test-classes:pipeline-jobs/target/classes:pipeline-core/target/classes:$(cat "$out/test-classpath.txt")" \
  io.distillery.bench.Bench "$root" "$run_id" 14000 2> "$out/bench.log"
echo "cold \`run\` wall time on the default, 2 cores: ${wall} s = $(python3 -c "print(f'{$wall/60:.2f}')") min (target <= 5 min; exit code $rc)"
grep -E "^(ingest|generate|train|evaluate) " "$out/run.log" || true
