#!/usr/bin/env bash
# Spark's GPU discovery script for Distillery's executors: prints the GPUs this node (or this YARN container) can
# see as Spark's resource JSON, e.g. {"name": "gpu", "addresses": ["0", "1"]}.
# Install it on every node and point submit-yarn.sh at it (GPU_DISCOVERY=/path/gpu-discovery.sh): Spark runs it
# itself, so it must be executable where executors start. Needs nvidia-smi (NVIDIA's driver) on PATH.
set -euo pipefail
if ! command -v nvidia-smi >/dev/null 2>&1; then
  echo "gpu-discovery.sh: nvidia-smi not found on PATH ($PATH): no NVIDIA driver on $(hostname)?" >&2
  exit 1
fi
addresses=()
while IFS= read -r index; do
  index="${index//[[:space:]]/}"
  [ -n "$index" ] && addresses+=("\"$index\"")
done < <(nvidia-smi --query-gpu=index --format=csv,noheader)
joined="$(IFS=,; echo "${addresses[*]:-}")"
echo "{\"name\": \"gpu\", \"addresses\": [${joined//,/, }]}"
