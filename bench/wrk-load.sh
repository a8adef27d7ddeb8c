# shellcheck shell=bash
# wrk against serve-teacher, shared by bench/remote.sh and bench/lm-remote.sh (sourced after cd to the repository;
# sets out, server_cpu, client_cpu and max_concurrent). The caller then sets conc (connections), url (the endpoint)
# and bodies (a file of request bodies, one a line, posted in turn by bench/wrk-post.lua).
# PIN=1 (default): the server on core 0, wrk and the pipeline on core 1 (taskset), so that neither client takes CPU
# from the server, as on a cluster where the teacher has machines of its own. PIN=0: all share the cores.
if [ "${PIN:-1}" = 1 ]; then server_cpu=(taskset -c 0); client_cpu=(taskset -c 1); max_concurrent=1
else server_cpu=(); client_cpu=(); max_concurrent=2; fi
out="$home/bench/out"
mkdir -p "$out"
command -v wrk >/dev/null || { echo "bench: needs wrk (Debian/Ubuntu: apt-get install wrk)" >&2; exit 2; }

# serve_teacher CONFIG LOG: serve-teacher on a free port (set in port) with CONFIG's teacher, on server_cpu, killed
# when the script exits; returns once it answers /health.
serve_teacher() {
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "${server_cpu[@]}" bin/distillery serve-teacher --config "$1" --set serve.port="$port" \
    --set serve.max-concurrent="$max_concurrent" --set serve.max-queued=1024 > "$2" 2>&1 &
  server=$!
  trap 'kill $server 2>/dev/null || true' EXIT
  for _ in $(seq 1 120); do
    curl -sf "http://127.0.0.1:$port/health" >/dev/null && return 0
    sleep 1
  done
  echo "bench: serve-teacher did not start; see $2" >&2
  exit 1
}

# wrk_load SECONDS LOG
wrk_load() {
  "${client_cpu[@]}" wrk -t1 -c"$conc" -d"$1"s -s "$home/bench/wrk-post.lua" "$url" -- "$bodies" > "$2" 2>&1
}

# wrk_rate LOG: requests per second of a wrk_load log.
wrk_rate() {
  python3 -c 'import re,sys; t=open(sys.argv[1]).read(); m=re.search(r"WRK requests=(\d+) seconds=([\d.]+)", t); print(int(m.group(1))/float(m.group(2)))' "$1"
}

# wrk_warm_up LOG: the server's JIT needs a while on one core; at least 40 s and until two 10 s runs agree
# within 3 %.
wrk_warm_up() {
  local last=0 now i
  for i in $(seq 1 12); do
    wrk_load 10 "$1"
    now=$(wrk_rate "$1")
    echo "bench: warming the server up: $now requests/s (not counted)" >&2
    if [ "$i" -ge 4 ] && python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); sys.exit(0 if abs(b-a)/a<0.03 else 1)" "$last" "$now"; then
      break
    fi
    last=$now
  done
}

# wrk_around PREFIX COMMAND...: wrk for 20 s (PREFIX-wrk.log), then COMMAND (PREFIX-generate.log; its wall time in
# seconds in command_seconds), then wrk for 20 s again (PREFIX-wrk-after.log: the drift check).
wrk_around() {
  local prefix=$1 start end
  shift
  echo "bench: wrk, $conc connections, 20 s" >&2
  wrk_load 20 "$prefix-wrk.log"
  echo "bench: the generate stage, $conc requests open" >&2
  start=$(date +%s.%N)
  "$@" > "$prefix-generate.log" 2>&1
  end=$(date +%s.%N)
  command_seconds=$(python3 -c "print($end - $start)")
  echo "bench: wrk again, 20 s (drift check)" >&2
  wrk_load 20 "$prefix-wrk-after.log"
}
