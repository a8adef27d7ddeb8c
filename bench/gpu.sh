#!/usr/bin/env bash
# Distillery benchmark on a GPU host: the train stage of the default embed run and of conf/examples/langid.conf on
# ND4J's CUDA backend and on its CPU backend, and the ONNX teacher on ONNX Runtime's CUDA and CPU execution
# providers. Two JVMs over the same rows: one on the -Pcuda classpath (train.device.kind = gpu), one on the CPU
# build's; ingest and generate run on the CPU teacher in each, only train and evaluate are compared. Prints
# samples/s of both, the ratio, both students' held-out metrics (they should agree within noise), and the teacher's
# embeddings/s on GPU vs CPU with the largest difference between their answers.
#   bench/gpu.sh [TEXTS] [MAX_DOCUMENTS]    # default 2000 teacher texts, each config's own corpus size
# Needs an NVIDIA GPU and its driver, CUDA 11.6 + cuDNN 8.3 (ND4J) and CUDA 12 + cuDNN 9 (ONNX Runtime) on the
# library path, and the -Pcuda artifacts from Maven Central or a mirror. GPU_BENCH_CPU_ONLY=1 (a machine without a
# GPU) resolves the -Pcuda classpath and runs the CPU half only, to check the script.
set -euo pipefail
home="$(cd "$(dirname "$0")/.." && pwd)"
cd "$home"
out="$home/bench/out/gpu"
rm -rf "$out"
mkdir -p "$out"
texts="${1:-2000}"
documents="${2:-0}"
# shellcheck source=bench/build-classpath.sh
source "$home/bench/build-classpath.sh"
build_test_classpath pipeline-jobs "$out/cpu-classpath.txt"
# The same classes on the -Pcuda dependencies (ND4J's CUDA backend, onnxruntime_gpu); the CPU build is installed
# again afterwards so bin/distillery and the tests keep the CPU classpath.
mvn -B -q -ntp -Pcuda dependency:build-classpath -pl pipeline-jobs -am -Dmdep.includeScope=test \
  -Dmdep.outputFile="$out/gpu-classpath.txt" >/dev/null
for needed in nd4j-cuda-11.6 onnxruntime_gpu; do
  grep -q "$needed" "$out/gpu-classpath.txt" || { echo "bench: the -Pcuda classpath lacks $needed" >&2; exit 1; }
done
classes="$home/pipeline-jobs/target/test-classes:$home/pipeline-jobs/target/classes:$home/pipeline-core/target/classes"
half() { # half MODE CLASSPATH_FILE
  # shellcheck disable=SC2046
  java -Xmx12g $(bin/jvm-flags) -Dlog4j2.configurationFile="$home/conf/log4j2.properties" -Dspark.ui.enabled=false \
    -Dtest.repo.root="$home" -cp "$classes:$(cat "$2")" \
    io.distillery.bench.GpuBench "$out" "$1" "$texts" "$documents" 2> "$out/$1.log" | tee "$out/$1.results"
}
echo "bench: CPU half (log $out/cpu.log)" >&2
half cpu "$out/cpu-classpath.txt"
if [ -n "${GPU_BENCH_CPU_ONLY:-}" ]; then
  echo "bench: GPU_BENCH_CPU_ONLY set: the -Pcuda classpath resolved ($(tr : "\n" < "$out/gpu-classpath.txt" | wc -l) entries); no GPU half" >&2
  exit 0
fi
echo "bench: GPU half (log $out/gpu.log)" >&2
half gpu "$out/gpu-classpath.txt"
python3 - "$out/cpu.results" "$out/gpu.results" <<'PY'
import sys
def results(path):
    rows = {}
    for line in open(path):
        if line.startswith("RESULT "):
            kind, *pairs = line.split()[1:]
            fields = dict(p.split("=", 1) for p in pairs)
            rows[(kind, fields.get("task", ""))] = fields
    return rows
cpu, gpu = results(sys.argv[1]), results(sys.argv[2])
print(f"ND4J backends: CPU half {cpu[('backend', '')]['nd4j']}, GPU half {gpu[('backend', '')]['nd4j']}")
for task in ("embed", "langid"):
    c, g = cpu[("train", task)], gpu[("train", task)]
    ratio = float(g["samples_per_s"]) / float(c["samples_per_s"])
    print(f"train {task}: {c['rows']} rows x {c['epochs']} epochs; samples/s CPU {c['samples_per_s']}, "
          f"GPU {g['samples_per_s']}; RATIO GPU / CPU = {ratio:.2f}")
    metrics = [k for k in c if k not in ("task", "mode", "rows", "epochs", "samples_per_s")]
    print("  held-out: " + ", ".join(f"{k} CPU {c[k]} GPU {g[k]}" for k in metrics))
t = gpu[("teacher", "")]
print(f"ONNX teacher on {t['device']}: {t['gpu_per_s']} emb/s vs CPU {t['cpu_per_s']} emb/s (one thread); "
      f"RATIO GPU / CPU = {float(t['gpu_per_s']) / float(t['cpu_per_s']):.2f}; answers: min cosine "
      f"{t['min_cosine']}, max |diff| {t['max_abs_diff']}, within the stated tolerance (cosine >= 0.999): "
      f"{t['within_tolerance']}")
PY
