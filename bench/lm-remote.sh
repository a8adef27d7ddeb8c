#!/usr/bin/env bash
# Task language-model against serve-teacher over HTTP (issue 13): the generate stage's generated tokens/s ÷ a load
# generator's (wrk, posting the same request bodies) at the same concurrency, on the same server, in one run.
#   bench/lm-remote.sh [SAMPLES] [CONCURRENCY]   # default 24 samples of each of the 160 story prompts, 8 open
# The server is serve-teacher with TinyStories (conf/examples/stories.conf); the pipeline is
# conf/examples/stories-remote.conf without a student and with its response cache off (every sample is sent),
# 2 partitions of CONCURRENCY/2 requests each. wrk posts the bodies the pipeline sends (each sample's seed computed
# as Settings.Sampling.forSample does), so its answers are the pipeline's: wrk's tokens/s = its requests/s × the
# pipeline's tokens a request (counting them in wrk's Lua halves wrk's rate). Pipeline rate = completion tokens /
# its request phase (first request sent to last answer, from the rows' created_at and latency_ms). The server is
# warmed up with wrk first, and wrk runs before and after the pipeline (drift check).
# PIN=1 (default): the server on core 0, wrk and the pipeline on core 1 (taskset), as on a cluster where the
# teacher has machines of its own. PIN=0: all share the cores.
# Needs wrk (Debian: apt-get install wrk) and pyarrow (pip install pyarrow). Outputs under bench/out/.
set -euo pipefail
home="$(cd "$(dirname "$0")/.." && pwd)"
cd "$home"
samples="${1:-24}"
conc="${2:-8}"
# shellcheck source=bench/wrk-load.sh
source "$home/bench/wrk-load.sh"
python3 -c 'import pyarrow' 2>/dev/null || { echo "bench: needs pyarrow (pip install pyarrow)" >&2; exit 2; }
root="$out/lm-remote-$(date +%s)"
serve_teacher conf/examples/stories.conf "$out/lm-remote-server.log"

common=(--config conf/examples/stories-remote.conf --set run.root="$root" --set student.kind=none
  --set generate.samples="$samples" --set teacher.http.base-url="http://127.0.0.1:$port/v1"
  --set teacher.http.cache=false --set spark.partitions=2 --set teacher.http.max-in-flight=$((conc / 2)))
echo "bench: ingest" >&2
bin/distillery ingest "${common[@]}" > "$out/lm-remote-ingest.log" 2>&1
# The pipeline's request bodies: every prompt × sample, with the sample's seed (Settings.Sampling.forSample).
python3 - "$root/runs/stories-remote/ingest.manifest.json" "$samples" > "$out/lm-remote-bodies.jsonl" <<'PY'
import hashlib, json, sys
import pyarrow.parquet as pq
manifest, samples = json.load(open(sys.argv[1])), int(sys.argv[2])
seed, model = 1, "karpathy/tinyllamas/stories260K"  # conf/examples/stories.conf, stories-remote.conf
for f in manifest["tables"]["prompts"]["files"]:
    t = pq.read_table(f["path"].removeprefix("file:"), columns=["row_id", "text"]).to_pylist()
    for row in t:
        for s in range(samples):
            h = hashlib.sha256(f"seed:{seed}:{row['row_id']}#{s}".encode()).hexdigest()
            print(json.dumps({"logprobs": 20, "max_tokens": 96, "model": model, "prompt": row["text"],
                              "return_tokens_as_token_ids": True, "seed": int(h[:15], 16), "temperature": 0.8,
                              "top_p": 0.95}, separators=(",", ":"), sort_keys=True, ensure_ascii=False))
PY

url="http://127.0.0.1:$port/v1/completions"
bodies="$out/lm-remote-bodies.jsonl"
wrk_warm_up "$out/lm-remote-wrk-warmup.log"
wrk_around "$out/lm-remote" "${client_cpu[@]}" bin/distillery generate "${common[@]}"

python3 - "$root/runs/stories-remote/generate.manifest.json" "$out/lm-remote-wrk.log" "$command_seconds" "$conc" "$out/lm-remote-wrk-after.log" <<'PY'
import json, re, sys
c = json.load(open(sys.argv[1]))["counts"]
def rps(path):
    m = re.search(r"WRK requests=(\d+) seconds=([\d.]+) errors=(\d+)", open(path).read())
    return int(m.group(1)) / float(m.group(2)), int(m.group(3))
answered, phase, tokens = c["answered_by_requests"], c["request_phase_ms"] / 1000, c["completion_tokens"]
# wrk posts the same bodies (same seeds: the same completions) in turn: its tokens a request are the pipeline's.
per_request = tokens / max(answered, 1)
(before, errors), (after, errors_after) = rps(sys.argv[2]), rps(sys.argv[5])
before, after = before * per_request, after * per_request
wrk_tps = (before + after) / 2
pipe_tps = tokens / phase
stage = float(sys.argv[3])
def row(name, value, note=""):
    print(f"{name:<60} {value:>12} {note}")
row("concurrency (requests open)", sys.argv[4])
row("wrk: generated tokens/s, mean of before and after", f"{wrk_tps:.0f}",
    f"({before:.0f} before, {after:.0f} after: its requests/s × {per_request:.1f} tokens a request; "
    f"{errors + errors_after} errors)")
row("pipeline: generated tokens/s over its request phase", f"{pipe_tps:.0f}",
    f"({answered} answers, {tokens} tokens in {phase:.1f} s; {tokens / max(answered, 1):.1f} a request; "
    f"failed {c['failed']})")
row("RATIO pipeline / wrk tokens/s", f"{pipe_tps / wrk_tps:.3f}", "target >= 0.95")
row("pipeline: tokens/s over the whole generate command", f"{tokens / stage:.0f}",
    f"({stage:.1f} s with JVM start, Spark, Parquet; ratio {tokens / stage / wrk_tps:.3f})")
PY
