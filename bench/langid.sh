#!/usr/bin/env bash
# Classification benchmark (task classify, conf/examples/langid.conf): one cold run, then the issue's targets as
# ratios measured side by side in that run's evaluate stage (same executor task, same texts, same cores).
#   bench/langid.sh          # outputs under bench/out/ (ignored by git)
set -euo pipefail
home="$(cd "$(dirname "$0")/.." && pwd)"
cd "$home"
out="$home/bench/out"
mkdir -p "$out"
root="$out/langid-$(date +%s)"
echo "bench: cold run of conf/examples/langid.conf into $root" >&2
start=$(date +%s.%N)
set +e
bin/distillery run --config conf/examples/langid.conf --set run.root="$root" "$@" > "$out/langid.log" 2>&1
rc=$?
set -e
end=$(date +%s.%N)
if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then
  echo "bench: the run failed (exit $rc); see $out/langid.log" >&2
  exit "$rc"
fi
python3 - "$root/reports/langid/metrics.json" "$(python3 -c "print(f'{$end - $start:.1f}')")" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))["metrics"]
hard = "ablation.hard-labels."
def row(name, value, target):
    print(f"{name:<58} {value:>12} {target}")
row("held-out rows", f"{m['held_out_rows']:.0f}", "")
row("top-1 agreement with the teacher (soft-label student)", f"{m['top1_agreement']:.4f}", "target >= 0.97")
row("student model bytes / teacher model bytes", f"{m['student_model_bytes'] / m['teacher_model_bytes']:.4f}",
    f"target <= 0.10 ({m['student_model_bytes']:.0f} / {m['teacher_model_bytes']:.0f})")
row("student docs/s / teacher docs/s (one thread each)", f"{m['student_speedup']:.1f}x",
    f"target >= 1 ({m['student_docs_per_second']:.0f} / {m['teacher_docs_per_second']:.0f} docs/s)")
if hard + "top1_agreement" in m:
    row("soft-label agreement - hard-label agreement", f"{m['soft_minus_hard_agreement']:+.4f}",
        f"target >= 0 (hard-label student {m[hard + 'top1_agreement']:.4f}; one seed: "
        "bench/langid-ablation.sh measures it over seeds)")
    row("mean KL(teacher || student): soft / hard", f"{m['mean_kl']:.4f} / {m[hard + 'mean_kl']:.4f}", "lower is better")
    row("ECE: soft / hard", f"{m['ece']:.4f} / {m[hard + 'ece']:.4f}", "lower is better")
row("cold run wall time, 2 cores", f"{float(sys.argv[2]):.0f} s", "")
PY
grep -E "^(ingest|generate|train|evaluate) " "$out/langid.log" || true
