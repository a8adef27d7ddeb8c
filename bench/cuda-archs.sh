#!/usr/bin/env bash
# Which NVIDIA GPUs the -Pcuda build's native libraries can run on, read from the jars without a GPU: lists the
# compute capabilities each CUDA library carries machine code (SASS) for and the PTX it can be JIT-compiled from,
# and says whether a GPU of compute capability CC (default 90: H100, H200) can run it. SASS runs on GPUs of the same
# major version and a minor at least its own; PTX runs on any GPU at or above its version, compiled by the driver.
#   bench/cuda-archs.sh [CC]     # e.g. 80 (A100), 86 (A10, RTX 30xx), 89 (L4, L40), 90 (H100, H200)
set -euo pipefail
home="$(cd "$(dirname "$0")/.." && pwd)"
cd "$home"
cc="${1:-90}"
out="$home/bench/out/cuda-archs"
rm -rf "$out"
mkdir -p "$out"
mvn -B -q -ntp -Pcuda dependency:build-classpath -pl pipeline-jobs -am -Dmdep.outputFile="$out/classpath.txt" \
  >/dev/null
tr ':' '\n' < "$out/classpath.txt" | grep -E '/(nd4j-cuda-[0-9.]+|onnxruntime_gpu)-[^/]*\.jar$' > "$out/jars.txt" || true
if [ ! -s "$out/jars.txt" ]; then
  echo "cuda-archs: no CUDA jars on the -Pcuda classpath" >&2
  exit 1
fi
status=0
while IFS= read -r jar; do
  while IFS= read -r lib; do
    [ -n "$lib" ] || continue
    unzip -p "$jar" "$lib" > "$out/lib.so"
    python3 - "$out/lib.so" "$cc" "$(basename "$jar")!/$lib" <<'PY' || status=1
import collections, mmap, struct, sys
path, cc, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
MAGIC = struct.pack("<I", 0xBA55ED50)  # a CUDA fat binary's header
with open(path, "rb") as f:
    m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    found = collections.defaultdict(set)
    pos = m.find(MAGIC)
    while pos != -1:
        _, version, header, size = struct.unpack_from("<IHHQ", m, pos)
        nxt = pos + 4
        if version == 1 and header == 16:
            p, end = pos + header, pos + header + size
            while p < end:
                kind, _, entry_header, entry_size = struct.unpack_from("<HHIQ", m, p)
                if entry_header == 0:
                    break
                arch = struct.unpack_from("<I", m, p + 28)[0]
                found[{1: "PTX", 2: "SASS"}.get(kind, str(kind))].add(arch)
                p += entry_header + entry_size
            nxt = end
        pos = m.find(MAGIC, nxt)
sass, ptx = sorted(found["SASS"]), sorted(found["PTX"])
if not sass and not ptx:
    sys.exit(0)  # no GPU code in this library
runs = any(s // 10 == cc // 10 and s <= cc for s in sass) or any(p <= cc for p in ptx)
how = ("SASS" if any(s // 10 == cc // 10 and s <= cc for s in sass) else "PTX, JIT-compiled at first use") \
    if runs else "neither SASS of its major version nor PTX at or below it"
print(f"{name}: SASS {['sm_%d' % a for a in sass]}, PTX {['compute_%d' % a for a in ptx]}; "
      f"compute capability {cc / 10:.1f}: {'RUNS' if runs else 'CANNOT RUN'} ({how})")
sys.exit(0 if runs else 1)
PY
  done < <(unzip -Z1 "$jar" | grep -E '\.so(\.[0-9]+)*$')
done < "$out/jars.txt"
rm -f "$out/lib.so"
exit "$status"
