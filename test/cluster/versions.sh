# Pinned versions of the local cluster's components. Changing one changes the cache key,
# so a new set of binaries is built beside the old one.
# Go needed: Kubernetes 1.36 and kwok 0.8 declare `go 1.26` in their go.mod.
K8S_VERSION=v1.36.3
ETCD_VERSION=v3.6.16
KWOK_VERSION=v0.8.0
HELM_VERSION=v3.21.4
GO_MIN_MINOR=26
AICOST_CACHE_DIR=${AICOST_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/aicost}
BIN_KEY="k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}_helm-${HELM_VERSION}"
BIN_DIR="$AICOST_CACHE_DIR/bin/$BIN_KEY"

# The S3-compatible object store the ledger's S3 sink is tested against (test/s3/build-weed.sh). Its own cache key,
# so pinning a new SeaweedFS never rebuilds the control plane (and the reverse). A commit of the main branch: the
# module proxy serves it as a pseudo-version.
WEED_VERSION=v0.0.0-20261109003541-7506e5f91cd6
WEED_BIN_DIR="$AICOST_CACHE_DIR/bin/weed-${WEED_VERSION}"
