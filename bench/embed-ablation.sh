#!/usr/bin/env bash
# What brings the embed student closer to its teacher (issue 18), in the ablation style of langid-ablation.sh: each
# variant is the default run with some settings changed, trained with SEEDS seeds; prints the held-out mean cosine
# (mean and standard deviation over seeds), p05, neighbour recall, the training rows and the cold run's wall time
# (the default's budget is 5 minutes on 2 cores).
#   bench/embed-ablation.sh [SEEDS] [VARIANT...]     # default 2 seeds and the variants below; outputs under bench/out/
# A variant is NAME=KEY=VALUE[,KEY=VALUE...] with keys as --set takes them, e.g. spans3=corpus.spans-per-sentence=3.
# Each variant has its own root: its first seed runs every stage, the later ones only train and evaluate.
set -euo pipefail
home="$(cd "$(dirname "$0")/.." && pwd)"
cd "$home"
seeds="${1:-2}"
shift || true
variants=("$@")
if [ ${#variants[@]} -eq 0 ]; then
  variants=("default=" "spans3=corpus.spans-per-sentence=3" "spans5=corpus.spans-per-sentence=5")
fi
out="$home/bench/out"
mkdir -p "$out"
base="$out/embed-ablation-$(date +%s)"
mvn -B -q -ntp install -DskipTests
for v in "${variants[@]}"; do
  name="${v%%=*}"
  sets=()
  IFS=',' read -r -a pairs <<< "${v#*=}"
  for p in "${pairs[@]}"; do
    [ -n "$p" ] && sets+=(--set "$p")
  done
  for s in $(seq 1 "$seeds"); do
    echo "bench: variant $name (${v#*=}), train.seed = $s" >&2
    start=$(date +%s.%N)
    set +e
    bin/distillery run --run-id ablation --set run.root="$base/$name" --set train.seed="$s" \
      --set evaluate.gate.min-mean-cosine=0 --set evaluate.gate.min-neighbour-recall=0 "${sets[@]}" \
      > "$out/embed-ablation.log" 2>&1
    rc=$?
    set -e
    end=$(date +%s.%N)
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then
      echo "bench: the run failed (exit $rc); see $out/embed-ablation.log" >&2
      exit "$rc"
    fi
    python3 - "$base/$name" "$out/embed-ablation-$name-s$s.json" "$(python3 -c "print($end - $start)")" <<'PY'
import json, sys
root, to, wall = sys.argv[1], sys.argv[2], float(sys.argv[3])
m = json.load(open(f"{root}/reports/ablation/metrics.json"))
m["wall_seconds"] = wall
m["train_rows"] = json.load(open(f"{root}/runs/ablation/train.manifest.json"))["counts"]["train_rows"]
json.dump(m, open(to, "w"))
PY
  done
done
python3 - "$out" "$seeds" "${variants[@]}" <<'PY'
import json, statistics, sys
out, seeds, variants = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
print(f"{'variant':<12} {'settings':<44} {'mean cosine':>18} {'p05':>7} {'recall@10':>9} {'train rows':>10} {'cold run':>9}")
for v in variants:
    name, sets = v.split("=", 1)
    runs = [json.load(open(f"{out}/embed-ablation-{name}-s{s}.json")) for s in range(1, seeds + 1)]
    cos = [r["metrics"]["mean_cosine"] for r in runs]
    sd = statistics.stdev(cos) if len(cos) > 1 else float("nan")
    m = runs[0]["metrics"]
    print(f"{name:<12} {sets or '(the default)':<44} {statistics.mean(cos):>10.4f} ± {sd:.4f} "
          f"{statistics.mean(r['metrics']['p05_cosine'] for r in runs):>7.4f} "
          f"{statistics.mean(r['metrics']['neighbour_recall'] for r in runs):>9.3f} "
          f"{runs[0].get('train_rows', ''):>10} {runs[0]['wall_seconds'] / 60:>7.2f} m")
PY
