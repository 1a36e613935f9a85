#!/usr/bin/env bash
# Writes kwok's stage configuration for the local cluster to the file given as $1, from the stage definitions
# that ship in the kwok module itself (downloaded through the Go module proxy if the module cache lacks them).
# Nodes become Ready and keep a heartbeat Lease; pods become Running and stay Running until deleted. kwok's own
# pod-complete stage is left out on purpose: it turns Job pods Succeeded at once, and training Jobs must run.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.sh
source "$here/versions.sh"
out=${1:?usage: kwok-stages.sh <output file>}
stages=(node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml pod/fast/pod-ready.yaml pod/fast/pod-delete.yaml)
dir=$(GOFLAGS=-mod=mod go env GOMODCACHE 2>/dev/null || echo "${GOPATH:-$HOME/go}/pkg/mod")/sigs.k8s.io/kwok@$KWOK_VERSION/kustomize/stage
if [[ ! -f "$dir/${stages[0]}" ]]; then
  command -v go >/dev/null || { echo "kwok-stages: Go is needed to fetch the kwok $KWOK_VERSION module" >&2; exit 1; }
  GOFLAGS=-mod=mod GOTOOLCHAIN=local go mod download "sigs.k8s.io/kwok@$KWOK_VERSION" >&2
  dir=$(go env GOMODCACHE)/sigs.k8s.io/kwok@$KWOK_VERSION/kustomize/stage
fi
{
  echo "# kwok stages for the local cluster, assembled by test/cluster/kwok-stages.sh from sigs.k8s.io/kwok@$KWOK_VERSION."
  for f in "${stages[@]}"; do
    printf -- '---\n'
    cat "$dir/$f"
    printf '\n'
  done
} >"$out"
