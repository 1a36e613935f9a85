#!/usr/bin/env bash
# Builds the local cluster's binaries from Go modules into a cache outside the repository:
# kube-apiserver, kube-controller-manager, kube-scheduler, etcd, kwok and helm.
# Idempotent: a binary already in the cache is not built again.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.sh
source "$here/versions.sh"

log() { printf '[build-binaries %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Everything cached: done, without asking for Go (a machine with a restored cache may not have it).
all_cached=1
for b in kube-apiserver kube-controller-manager kube-scheduler etcd kwok helm; do
  [[ -x "$BIN_DIR/$b" ]] || all_cached=0
done
[[ $all_cached == 1 && $("$BIN_DIR/helm" version --template '{{.Version}}' 2>/dev/null) != "$HELM_VERSION" ]] && all_cached=0
if ((all_cached)); then
  log "all binaries cached in $BIN_DIR"
  exit 0
fi

command -v go >/dev/null 2>&1 || die "Go is not installed; Go 1.$GO_MIN_MINOR or newer is needed to build the local cluster (https://go.dev/doc/install)."
go_version=$(go env GOVERSION) # e.g. go1.26.8
go_minor=$(sed -E 's/^go1\.([0-9]+).*/\1/' <<<"$go_version")
[[ "$go_minor" =~ ^[0-9]+$ ]] || die "cannot read the Go version from '$go_version'"
if (( go_minor < GO_MIN_MINOR )); then
  die "Go $go_version is too old: Kubernetes $K8S_VERSION and kwok $KWOK_VERSION need Go 1.$GO_MIN_MINOR or newer."
fi

# Never let the go command fetch another toolchain: use the one on PATH or fail.
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
mkdir -p "$BIN_DIR"
work="$AICOST_CACHE_DIR/build"
mkdir -p "$work"

have() { [[ -x "$BIN_DIR/$1" ]]; }

k8s_minor=$(cut -d. -f2 <<<"$K8S_VERSION")
staging_version="v0.${K8S_VERSION#v1.}"

build_kubernetes() {
  if have kube-apiserver && have kube-controller-manager && have kube-scheduler; then
    log "kubernetes $K8S_VERSION: cached"; return
  fi
  log "kubernetes $K8S_VERSION: preparing a wrapper module (k8s.io/kubernetes has replace directives, so go install cannot build it)"
  local dir="$work/kubernetes-$K8S_VERSION"
  rm -rf "$dir"; mkdir -p "$dir"; cd "$dir"
  go mod init aicost.local/build-kubernetes >/dev/null 2>&1
  # The replace block of k8s.io/kubernetes points every staging module at ./staging; point each at
  # its published v0.X.Y instead.
  local gomod
  gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
  [[ -f "$gomod" ]] || die "could not download the go.mod of k8s.io/kubernetes@$K8S_VERSION"
  {
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo "replace ("
    sed -n '/^replace (/,/^)/p' "$gomod" | sed -n -E 's#^[[:space:]]*(k8s\.io/[a-z0-9-]+) => \./staging/.*#\t\1 => \1 '"$staging_version"'#p'
    echo ")"
  } >>go.mod
  cat >tools.go <<GO
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
GO
  # tidy needs the imports above to keep the pinned requirement (without them it drops it, and the build
  # then resolves the newest Kubernetes instead).
  log "kubernetes $K8S_VERSION: resolving modules"
  go mod tidy -e >/dev/null || die "go mod tidy failed for k8s.io/kubernetes@$K8S_VERSION"
  grep -q "k8s.io/kubernetes $K8S_VERSION" go.mod || die "go.mod lost the pin on k8s.io/kubernetes $K8S_VERSION"
  local ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$k8s_minor"
  for cmd in kube-apiserver kube-controller-manager kube-scheduler; do
    if have "$cmd"; then continue; fi
    log "kubernetes $K8S_VERSION: building $cmd (the first build takes many minutes)"
    go build -trimpath -ldflags "$ldflags" -o "$BIN_DIR/$cmd.tmp" "k8s.io/kubernetes/cmd/$cmd"
    mv "$BIN_DIR/$cmd.tmp" "$BIN_DIR/$cmd"
  done
}

build_etcd() {
  if have etcd; then log "etcd $ETCD_VERSION: cached"; return; fi
  # go.etcd.io/etcd/server/v3 also carries replace directives; build it from a wrapper module.
  local dir="$work/etcd-$ETCD_VERSION"
  rm -rf "$dir"; mkdir -p "$dir"; cd "$dir"
  go mod init aicost.local/build-etcd >/dev/null 2>&1
  echo "require go.etcd.io/etcd/server/v3 $ETCD_VERSION" >>go.mod
  cat >tools.go <<GO
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
GO
  go mod tidy -e >/dev/null || die "go mod tidy failed for etcd $ETCD_VERSION"
  grep -q "go.etcd.io/etcd/server/v3 $ETCD_VERSION" go.mod || die "go.mod lost the pin on etcd $ETCD_VERSION"
  log "etcd $ETCD_VERSION: building"
  go build -trimpath -ldflags "-s -w" -o "$BIN_DIR/etcd.tmp" go.etcd.io/etcd/server/v3
  mv "$BIN_DIR/etcd.tmp" "$BIN_DIR/etcd"
}

go_install() { # name module version
  local name=$1 pkg=$2 version=$3
  if have "$name"; then log "$name $version: cached"; return; fi
  log "$name $version: building"
  GOBIN="$BIN_DIR" go install -trimpath -ldflags "-s -w" "$pkg@$version"
}

# helm with the version stamps its own Makefile sets: without them it reports v3.x and takes Kubernetes to be
# v1.20, so `helm template` refuses a chart that requires a newer kubeVersion. A helm cached before the stamps
# (it prints a version other than HELM_VERSION) is rebuilt.
build_helm() {
  if have helm && [[ $("$BIN_DIR/helm" version --template '{{.Version}}' 2>/dev/null) == "$HELM_VERSION" ]]; then
    log "helm $HELM_VERSION: cached"; return
  fi
  local gomod client_go major minor
  gomod=$(go mod download -json "helm.sh/helm/v3@$HELM_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
  [[ -f "$gomod" ]] || die "could not download the go.mod of helm.sh/helm/v3@$HELM_VERSION"
  # As helm's Makefile: the Kubernetes version is that of its client-go (v0.X.Y -> 1.X).
  client_go=$(sed -n -E 's#^[[:space:]]*k8s.io/client-go v0\.([0-9]+)\.[0-9]+.*#\1#p' "$gomod" | head -n 1)
  [[ "$client_go" =~ ^[0-9]+$ ]] || die "could not read the client-go version of helm $HELM_VERSION"
  major=1 minor=$client_go
  local ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  local pkg
  for pkg in pkg/lint/rules pkg/chartutil; do
    ldflags+=" -X helm.sh/helm/v3/$pkg.k8sVersionMajor=$major -X helm.sh/helm/v3/$pkg.k8sVersionMinor=$minor"
  done
  log "helm $HELM_VERSION: building (Kubernetes $major.$minor)"
  rm -f "$BIN_DIR/helm"
  GOBIN="$BIN_DIR" go install -trimpath -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
}

start=$(date +%s)
build_etcd
go_install kwok sigs.k8s.io/kwok/cmd/kwok "$KWOK_VERSION"
build_helm
build_kubernetes
log "all binaries ready in $BIN_DIR ($(( $(date +%s) - start )) s)"
