#!/usr/bin/env bash
# Stops every process of the local cluster and removes its state; the logs stay for diagnosis.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.sh
source "$here/versions.sh"
STATE=${AICOST_CLUSTER_DIR:-$AICOST_CACHE_DIR/cluster}
LOGS=${AICOST_CLUSTER_LOGS:-$AICOST_CACHE_DIR/cluster-logs}
[[ -d "$STATE" ]] || { echo "[cluster] nothing to stop" >&2; exit 0; }
pids=()
for f in "$STATE"/*.pid; do
  [[ -f "$f" ]] || continue
  pid=$(cat "$f")
  # The processes run in their own sessions: signal the whole group.
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
  pids+=("$pid")
done
for _ in $(seq 1 50); do
  alive=0
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
  (( alive == 0 )) && break
  sleep 0.1
done
for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null; done
rm -rf "$STATE"
echo "[cluster] stopped; logs kept in $LOGS" >&2
