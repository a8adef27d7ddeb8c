#!/usr/bin/env bash
# Task language-model (issue 13), ratios side by side in one run:
#   1. generate's tokens/s through the executors / the same teacher's in a bare loop on the same 2 cores, and the
#      stored bytes per generated token at k = 20 and k = 50 (io.distillery.bench.LmBench);
#   2. the shipped stories example over SEEDS seeds: the student's held-out perplexity over the teacher's and its
#      top-1 agreement, soft targets vs the hard-label ablation (mean and standard error of the difference), and the
#      student's speed over the teacher's reading the same sequences;
#   3. against serve-teacher over HTTP: the generate stage's tokens/s over wrk's posting the same bodies at the same
#      concurrency (bench/lm-remote.sh, which needs wrk and pyarrow).
#   bench/lm.sh [SEEDS]            # default 3 (0: no part 2); outputs under bench/out/
#   SEEDS_ONLY=1 bench/lm.sh 3     # part 2 only
#   REMOTE=0 bench/lm.sh           # without part 3
# One ingest and one generate serve every seed (same run id: only train and evaluate rerun when the seed changes).
set -euo pipefail
home="$(cd "$(dirname "$0")/.." && pwd)"
cd "$home"
seeds="${1:-3}"
out="$home/bench/out"
mkdir -p "$out"
root="$out/lm-$(date +%s)"
if [ "${SEEDS_ONLY:-0}" != 1 ]; then
  # shellcheck source=bench/build-classpath.sh
  source "$home/bench/build-classpath.sh"
  build_test_classpath pipeline-jobs "$out/test-classpath.txt"
  # shellcheck disable=SC2046
  java -Xmx6g $(bin/jvm-flags) -Dlog4j2.configurationFile="$home/conf/log4j2.properties" \
    -cp "pipeline-jobs/target/test-classes:pipeline-jobs/target/classes:pipeline-core/target/classes:$(cat "$out/test-classpath.txt")" \
    io.distillery.bench.LmBench conf/examples/stories-corpus.conf "$root/generate" 8 3 2> "$out/lm-bench.log"
fi
if [ "$seeds" -gt 0 ]; then
for s in $(seq 1 "$seeds"); do
  echo "bench: stories, train.seed = $s" >&2
  set +e
  bin/distillery run --config conf/examples/stories.conf --set run.root="$root/stories" --set train.seed="$s" \
    --set evaluate.gate.max-perplexity-ratio=1000 --set evaluate.gate.min-token-agreement=0 > "$out/lm-stories.log" 2>&1
  rc=$?
  set -e
  if [ "$rc" -ne 0 ]; then
    echo "bench: the run failed (exit $rc); see $out/lm-stories.log" >&2
    exit "$rc"
  fi
  cp "$root/stories/reports/stories/metrics.json" "$out/lm-s$s.json"
done
python3 - "$out" "$seeds" <<'PY'
import json, math, sys
out, seeds = sys.argv[1], int(sys.argv[2])
hard = "ablation.hard-labels."
rows = [json.load(open(f"{out}/lm-s{s}.json"))["metrics"] for s in range(1, seeds + 1)]
print(f"stories: {rows[0]['held_out_rows']:.0f} held-out completions, {rows[0]['held_out_tokens']:.0f} tokens; "
      f"teacher perplexity {rows[0]['teacher_perplexity']:.3f}")
print(f"  {'seed':>4} {'ratio soft':>11} {'ratio hard':>11} {'agree soft':>11} {'agree hard':>11} {'KL soft':>8} {'KL hard':>8} {'speedup':>8}")
diffs, agree = [], []
for s, m in enumerate(rows, 1):
    diffs.append(m[hard + "perplexity_ratio"] - m["perplexity_ratio"])
    agree.append(m["top1_agreement"] - m[hard + "top1_agreement"])
    print(f"  {s:>4} {m['perplexity_ratio']:>11.3f} {m[hard + 'perplexity_ratio']:>11.3f} {m['top1_agreement']:>11.4f} "
          f"{m[hard + 'top1_agreement']:>11.4f} {m['mean_kl']:>8.4f} {m[hard + 'mean_kl']:>8.4f} {m['student_speedup']:>7.2f}x")
def stat(v):
    mean = sum(v) / len(v)
    se = math.sqrt(sum((d - mean) ** 2 for d in v) / (len(v) - 1) / len(v)) if len(v) > 1 else float("nan")
    return mean, se
for name, v in (("perplexity ratio, hard - soft", diffs), ("top-1 agreement, soft - hard", agree)):
    mean, se = stat(v)
    print(f"  {name}: {mean:+.4f} (standard error {se:.4f}, {len(v)} seeds)   target: > 0, the soft-target student better")
ratio = sum(m["perplexity_ratio"] for m in rows) / len(rows)
speed = sum(m["student_speedup"] for m in rows) / len(rows)
print(f"RATIO student / teacher held-out perplexity     = {ratio:.3f}   (mean of {len(rows)} seeds)")
print(f"RATIO student / teacher tokens/s (same sequences, one thread each) = {speed:.2f}x")
PY
fi
if [ "${REMOTE:-1}" = 1 ] && [ "${SEEDS_ONLY:-0}" != 1 ]; then
  echo "bench: against serve-teacher over HTTP (bench/lm-remote.sh)" >&2
  bench/lm-remote.sh
fi
