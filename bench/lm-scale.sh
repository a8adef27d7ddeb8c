#!/usr/bin/env bash
# Corpus generation at scale (issue 13): PROMPTS prompts from conf/examples/stories-template.conf's template, filled
# from a generated seed table, SAMPLES completions each of up to MAX_TOKENS tokens, through the same `run` a user
# starts (ingest and generate; no student). Prints the rows and tokens written, the accounting, the tokens per
# second of the whole run and the JVM's peak resident memory (GNU time), which must stay flat as rows grow: run it
# at two sizes and compare.
#   bench/lm-scale.sh [PROMPTS] [SAMPLES] [MAX_TOKENS]      # default 25000 x 4 = 100,000 completions of 32 tokens
set -euo pipefail
home="$(cd "$(dirname "$0")/.." && pwd)"
cd "$home"
prompts="${1:-25000}"
samples="${2:-4}"
max_tokens="${3:-32}"
out="$home/bench/out"
mkdir -p "$out"
root="$out/lm-scale-$(date +%s)"
mkdir -p "$root"
seeds="$root/seeds.jsonl"
python3 - "$prompts" "$seeds" <<'PY'
import itertools, json, sys
n, path = int(sys.argv[1]), sys.argv[2]
names = ["Lily", "Tom", "Sara", "Ben", "Mia", "Tim", "Lucy", "Max", "Anna", "Jack", "Emma", "Sam", "Sue", "Bob",
         "Kim", "Zoe", "Leo", "Amy", "Joe", "Ella"]
animals = ["cat", "dog", "bunny", "bird", "frog", "duck", "mouse", "bear", "fish", "lion"]
places = ["the park", "the beach", "the forest", "the garden", "the zoo", "the farm", "the lake", "the hill",
          "the river", "the town"]
ages = range(1, 200)
combos = itertools.product(ages, names, animals, places)
with open(path, "w") as f:
    for _, (age, name, animal, place) in zip(range(n), combos):
        f.write(json.dumps({"name": name, "animal": animal, "place": f"{place} for {age} days"}) + "\n")
PY
echo "bench: $prompts prompts x $samples samples of up to $max_tokens tokens under $root" >&2
/usr/bin/time -v -o "$root/time.txt" bin/distillery run --config conf/examples/stories-template.conf \
  --set run.root="$root" --set corpus.path="$seeds" --set generate.samples="$samples" \
  --set generate.sampling.max-tokens="$max_tokens" > "$root/run.log" 2>&1
python3 - "$root" <<'PY'
import json, re, sys
root = sys.argv[1]
m = json.load(open(f"{root}/runs/stories-template/generate.manifest.json"))
c, d = m["counts"], m["details"]
time = open(f"{root}/time.txt").read()
wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", time).group(1)
seconds = sum(float(p) * 60 ** i for i, p in enumerate(reversed(wall.split(":"))))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", time).group(1))
holds = c["rows_in"] == c["written"] + c["failed"] + c.get("quarantined", 0)
print(f"generate: {c}")
print(f"accounting: rows in {c['rows_in']} = written {c['written']} + failed {c['failed']} + quarantined "
      f"{c.get('quarantined', 0)}: {'holds' if holds else 'BROKEN'}")
print(f"tokens written {d['completion_tokens']}, finish reasons {d['finish_reasons']}, {d['bytes_per_token']} bytes "
      f"per token (top-k column)")
print(f"generate stage {d['elapsed_seconds']:.0f} s = {d['completion_tokens'] / d['elapsed_seconds']:.0f} tokens/s; "
      f"whole run (JVM start, ingest and generate) {seconds:.0f} s; peak RSS {rss / 1024:.0f} MiB")
PY
