#!/usr/bin/env bash
# Train on N worker processes on this machine, the way a real cluster runs: each worker is `hanzicheck train` with
# the same arguments and its own TF_CONFIG (127.0.0.1 and a free port each), so MultiWorkerMirroredStrategy
# trains one model across them. The chief (worker 0) writes the run folder (--out); every worker writes its log to
# $CLUSTER_LOGS/worker-K.log (default: a new temporary folder, printed). Waits for all of them; if one fails, the
# others are stopped (they would wait for it forever) and the script exits with that worker's status.
#
#   bash scripts/train_local_cluster.sh 2 --out runs/c2 --chars 一二三 --epochs 1 --steps 4 --batch-size 16 \
#     --model resnet-tiny
#
# Environment: HANZICHECK (the command; default: this checkout's .venv/bin/hanzicheck, else hanzicheck on PATH),
# CLUSTER_LOGS (the log folder). On real hosts, run the same command on each with TF_CONFIG naming every host
# (README, "Training on several machines").
set -euo pipefail
usage="usage: $0 N [hanzicheck train arguments...]"
N=${1:-}
if ! [[ "$N" =~ ^[1-9][0-9]*$ ]]; then
  echo "train_local_cluster.sh: N must be a number of workers ≥ 1, got '${N}'; $usage" >&2
  exit 2
fi
shift
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${HANZICHECK:-}" ]; then
  if [ -x "$ROOT/.venv/bin/hanzicheck" ]; then HANZICHECK="$ROOT/.venv/bin/hanzicheck"; else HANZICHECK=hanzicheck; fi
fi
PYTHON=$(dirname "$(command -v "$HANZICHECK")")/python
[ -x "$PYTHON" ] || PYTHON=python3
LOGS=${CLUSTER_LOGS:-$(mktemp -d "${TMPDIR:-/tmp}/hanzicheck-cluster.XXXXXX")}
mkdir -p "$LOGS"

# N distinct free ports on 127.0.0.1: all sockets are bound before any is released.
PORTS=$("$PYTHON" -c "
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(('127.0.0.1', 0))
print(' '.join(str(s.getsockname()[1]) for s in socks))
" "$N")
WORKERS=$(printf '"127.0.0.1:%s",' $PORTS)
WORKERS="[${WORKERS%,}]"

pids=()
stop_all() {  # TERM, then KILL: a worker blocked in TensorFlow's cluster start-up ignores TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" -eq 0 ] && return 0
    sleep 0.5
  done
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
}
trap 'stop_all; exit 130' INT TERM
for ((i = 0; i < N; i++)); do
  TF_CONFIG="{\"cluster\": {\"worker\": $WORKERS}, \"task\": {\"type\": \"worker\", \"index\": $i}}" \
    TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2} "$HANZICHECK" train "$@" > "$LOGS/worker-$i.log" 2>&1 &
  pids+=($!)
done
echo "train_local_cluster.sh: $N workers on 127.0.0.1 ports $PORTS; logs in $LOGS" >&2

# Wait for every worker; the first failure stops the rest.
status=0
running=$N
done_=()
while [ "$running" -gt 0 ]; do
  for ((i = 0; i < N; i++)); do
    pid=${pids[$i]}
    if [ -z "${done_[$i]:-}" ] && ! kill -0 "$pid" 2>/dev/null; then
      rc=0
      wait "$pid" || rc=$?
      done_[$i]=1
      running=$((running - 1))
      if [ "$rc" -ne 0 ] && [ "$status" -eq 0 ]; then
        status=$rc
        echo "train_local_cluster.sh: worker $i failed (exit $rc); stopping the others. Its log ends:" >&2
        tail -n 5 "$LOGS/worker-$i.log" >&2
        stop_all
      fi
    fi
  done
  [ "$running" -gt 0 ] && sleep 0.5
done
for ((i = 0; i < N; i++)); do
  echo "worker $i: $(tail -n 1 "$LOGS/worker-$i.log")"
done
exit "$status"
