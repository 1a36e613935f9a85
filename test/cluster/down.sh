#!/usr/bin/env bash
# Stops every process of the local cluster (SIGTERM, then SIGKILL after 10 s) and removes its state
# directory; the logs folder stays for diagnosis. Safe to run when nothing is up.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.sh
source "$here/versions.sh"
absolute() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac }
STATE=$(absolute "${AICOST_CLUSTER_DIR:-$AICOST_CACHE_DIR/cluster}")
LOGS=$(absolute "${AICOST_CLUSTER_LOGS:-$AICOST_CACHE_DIR/cluster-logs}")
log() { printf '[cluster %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [[ ! -d "$STATE" ]]; then
  log "nothing to stop: $STATE does not exist"
  exit 0
fi
# AICOST_CLUSTER_DIR may point anywhere: only a directory up.sh made is removed.
if [[ ! -f "$STATE/.aicost-cluster" && ! -f "$STATE/kubeconfig" ]]; then
  log "error: $STATE does not look like a cluster state directory (no .aicost-cluster marker); not touching it"
  exit 1
fi
if [[ -z ${AICOST_CLUSTER_LOCKED:-} ]] && command -v flock >/dev/null; then
  exec 9>"$STATE.lock"
  flock -w 120 9 || log "warning: $STATE.lock is held by another cluster:up; stopping anyway"
fi

# A pid file may outlive its process (a reboot): only a process whose command line names this state
# directory (every component's does, through its kubeconfig, certificates or data paths) is signalled.
ours() { [[ -r /proc/$1/cmdline ]] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "$STATE/"; }
# Zombies count as gone: whoever reaps orphans here may be slow to.
running() { kill -0 "$1" 2>/dev/null && [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) != Z ]]; }
stop() { # component...: SIGTERM to their process groups, SIGKILL to what is left after 10 s
  local name pid pids=() left
  for name in "$@"; do
    [[ -f "$STATE/$name.pid" ]] || continue
    pid=$(cat "$STATE/$name.pid")
    rm -f "$STATE/$name.pid"
    if ! [[ $pid =~ ^[0-9]+$ ]] || ! ours "$pid"; then continue; fi
    # Each component runs in its own session (setsid): signal its whole process group.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    pids+=("$pid")
  done
  local deadline=$((SECONDS + 10))
  while ((${#pids[@]} > 0 && SECONDS < deadline)); do
    left=()
    for pid in "${pids[@]}"; do running "$pid" && left+=("$pid"); done
    pids=("${left[@]+"${left[@]}"}")
    ((${#pids[@]} > 0)) && sleep 0.1
  done
  for pid in "${pids[@]+"${pids[@]}"}"; do
    log "process $pid did not stop on SIGTERM: killing it"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
  done
}
# Clients first, etcd last: an API server whose etcd is gone hangs in its graceful shutdown.
stop volume-binder dcgm-sim prometheus kwok kube-scheduler kube-controller-manager
stop kube-apiserver
stop etcd
# Anything else with a pid file (a component a later up.sh may add).
others=()
for f in "$STATE"/*.pid; do [[ -f "$f" ]] && others+=("$(basename "$f" .pid)"); done
((${#others[@]} > 0)) && stop "${others[@]}"
rm -rf "$STATE"
log "stopped; logs kept in $LOGS"
