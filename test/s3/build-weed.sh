#!/usr/bin/env bash
# Builds SeaweedFS's `weed` (the S3-compatible server the ledger's S3 sink is tested against) from Go modules
# into the binary cache, beside the control plane's binaries but under its own key (WEED_BIN_DIR).
# Idempotent: a cached binary is not built again, and then Go is not needed.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../cluster/versions.sh
source "$here/../cluster/versions.sh"

log() { printf '[build-weed %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

if [[ -x "$WEED_BIN_DIR/weed" ]]; then
  log "weed $WEED_VERSION: cached in $WEED_BIN_DIR"
  exit 0
fi

command -v go >/dev/null 2>&1 || die "Go is not installed; Go 1.$GO_MIN_MINOR or newer is needed to build SeaweedFS (https://go.dev/doc/install)."
go_version=$(go env GOVERSION)
go_minor=$(sed -E 's/^go1\.([0-9]+).*/\1/' <<<"$go_version")
[[ "$go_minor" =~ ^[0-9]+$ ]] || die "cannot read the Go version from '$go_version'"
(( go_minor >= GO_MIN_MINOR )) || die "Go $go_version is too old: SeaweedFS $WEED_VERSION needs Go 1.$GO_MIN_MINOR or newer."

export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
start=$(date +%s)
# SeaweedFS's go.mod has a replace directive (a deleted go-bip39 pointed at a fork), which `go install pkg@version`
# refuses; a wrapper module takes the same replace and builds the command from there.
dir="$AICOST_CACHE_DIR/build/weed-$WEED_VERSION"
rm -rf "$dir"; mkdir -p "$dir"; cd "$dir"
go mod init aicost.local/build-weed >/dev/null 2>&1
gomod=$(go mod download -json "github.com/seaweedfs/seaweedfs@$WEED_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
[[ -f "$gomod" ]] || die "could not download the go.mod of github.com/seaweedfs/seaweedfs@$WEED_VERSION"
{
  echo "require github.com/seaweedfs/seaweedfs $WEED_VERSION"
  grep -E '^replace [^ ]+ => [^ .][^ ]* v[^ ]+$' "$gomod" || true
} >>go.mod
cat >tools.go <<GO
//go:build tools

package tools

import _ "github.com/seaweedfs/seaweedfs/weed"
GO
log "weed $WEED_VERSION: resolving modules"
go mod tidy -e >/dev/null || die "go mod tidy failed for github.com/seaweedfs/seaweedfs@$WEED_VERSION"
grep -q "github.com/seaweedfs/seaweedfs $WEED_VERSION" go.mod || die "go.mod lost the pin on github.com/seaweedfs/seaweedfs $WEED_VERSION"
log "weed $WEED_VERSION: building (the first build takes minutes)"
mkdir -p "$WEED_BIN_DIR"
go build -trimpath -ldflags "-s -w -X github.com/seaweedfs/seaweedfs/weed/util/version.COMMIT=${WEED_VERSION##*-}" \
  -o "$WEED_BIN_DIR/weed.tmp" github.com/seaweedfs/seaweedfs/weed
mv "$WEED_BIN_DIR/weed.tmp" "$WEED_BIN_DIR/weed"
log "weed $WEED_VERSION: ready in $WEED_BIN_DIR ($(( $(date +%s) - start )) s)"
