#!/usr/bin/env bash
# Soft labels vs hard labels (issue 3), over seeds and two data regimes, in one run. The langid example's student
# (soft labels: soft-label-weight 0.9, temperature 2) and its hard-label ablation (soft-label-weight 0) train on
# the same examples with the same seed, and are scored on the same held-out documents; this is repeated for SEEDS
# seeds on the whole training split and on FRACTION of it (data-limited, where Hinton et al. 2015 saw soft targets
# help most). On the fraction the students train for epochs / FRACTION epochs, the same number of updates as on
# the whole split (the epoch with the lowest validation loss is kept, as always). Prints each pair and, per
# regime, the mean soft - hard difference with its standard error.
#   bench/langid-ablation.sh [SEEDS] [FRACTION]     # default 3 seeds, fraction 0.05; outputs under bench/out/
#   FULL=0 bench/langid-ablation.sh                 # the fraction only
# One ingest and one generate serve every run (same run id: only train and evaluate rerun when the seed or the
# fraction changes).
set -euo pipefail
home="$(cd "$(dirname "$0")/.." && pwd)"
cd "$home"
seeds="${1:-3}"
fraction="${2:-0.05}"
epochs=2 # conf/examples/langid.conf's train.epochs
regimes=("$fraction")
if [ "${FULL:-1}" = 1 ]; then regimes=(1.0 "$fraction"); fi
out="$home/bench/out"
mkdir -p "$out"
root="$out/langid-ablation-$(date +%s)"
for f in "${regimes[@]}"; do
  e=$(python3 -c "print(max($epochs, round($epochs / $f)))")
  for s in $(seq 1 "$seeds"); do
    echo "bench: train.fraction = $f, train.epochs = $e, train.seed = $s" >&2
    set +e
    bin/distillery run --config conf/examples/langid.conf --set run.root="$root" --set train.seed="$s" \
      --set train.fraction="$f" --set train.epochs="$e" --set evaluate.gate.min-agreement=0 > "$out/langid-ablation.log" 2>&1
    rc=$?
    set -e
    if [ "$rc" -ne 0 ]; then
      echo "bench: the run failed (exit $rc); see $out/langid-ablation.log" >&2
      exit "$rc"
    fi
    cp "$root/reports/langid/metrics.json" "$out/langid-ablation-f$f-s$s.json"
    grep -E "^train " "$out/langid-ablation.log" >&2 || true
  done
done
python3 - "$out" "$seeds" "${regimes[@]}" <<'PY'
import json, math, sys
out, seeds, regimes = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
hard = "ablation.hard-labels."
for f in regimes:
    rows = [json.load(open(f"{out}/langid-ablation-f{f}-s{s}.json"))["metrics"] for s in range(1, seeds + 1)]
    print(f"train.fraction = {f}  (held-out documents: {rows[0]['held_out_rows']:.0f})")
    print(f"  {'seed':>4} {'soft agreement':>15} {'hard agreement':>15} {'soft - hard':>12} {'KL soft':>9} {'KL hard':>9} {'ECE soft':>9} {'ECE hard':>9}")
    diffs = []
    for s, m in enumerate(rows, 1):
        d = m["top1_agreement"] - m[hard + "top1_agreement"]
        diffs.append(d)
        print(f"  {s:>4} {m['top1_agreement']:>15.4f} {m[hard + 'top1_agreement']:>15.4f} {d:>+12.4f} "
              f"{m['mean_kl']:>9.4f} {m[hard + 'mean_kl']:>9.4f} {m['ece']:>9.4f} {m[hard + 'ece']:>9.4f}")
    mean = sum(diffs) / len(diffs)
    se = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (len(diffs) - 1) / len(diffs)) if len(diffs) > 1 else float("nan")
    kl = sum(m["mean_kl"] for m in rows) / len(rows)
    klh = sum(m[hard + "mean_kl"] for m in rows) / len(rows)
    print(f"  mean soft - hard agreement: {mean:+.4f} (standard error {se:.4f}, {len(diffs)} seeds); "
          f"mean KL soft / hard: {kl:.4f} / {klh:.4f}   target: soft at least as good as hard")
PY
