#!/usr/bin/env bash
# Builds the local stand-in for node:24-slim, for machines that reach Debian's packages and npm packages but
# no container registry: a Debian bookworm minbase root made by mmdebstrap, the Node 24 binary of the
# project's own `node` dev dependency, and npm from its npm package (the Dockerfile's build stages run npm ci).
# Same layout as node:24-slim: node and npm in /usr/local/bin. Idempotent: an image with the tag is kept.
# Needs root with buildah and mmdebstrap (Debian packages). Prints the image name on stdout.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# The binary npm ci put in place for the `node` dev dependency (a copy or a link; readlink resolves either).
NODE_BIN=$(readlink -f "$root/node_modules/.bin/node")
NODE_VERSION=$("$NODE_BIN" -p process.versions.node)
NPM_VERSION=${AICOST_BASE_NPM_VERSION:-11.21.2}
# The tag names what went in, this recipe included, so a changed recipe builds a new base.
RECIPE=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-8)
IMAGE="localhost/aicost-node-base:$NODE_VERSION-npm$NPM_VERSION-$RECIPE"

log() { printf '[image-base %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

if buildah inspect --type image "$IMAGE" >/dev/null 2>&1; then
  log "$IMAGE: cached"
  echo "$IMAGE"
  exit 0
fi
command -v mmdebstrap >/dev/null || die "mmdebstrap is missing (apt-get install mmdebstrap)"
[[ -x "$NODE_BIN" ]] || die "$root/node_modules/.bin/node is missing: run npm ci first"

work=$(mktemp -d)
trap 'rm -rf "$work"; [[ -n ${ctr:-} ]] && buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
log "Debian bookworm minbase with ca-certificates (mmdebstrap)"
mmdebstrap --quiet --variant=minbase --include=ca-certificates \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --skip=output/dev \
  bookworm "$work/rootfs.tar" >&2
log "npm $NPM_VERSION from its package"
(cd "$work" && npm pack --silent "npm@$NPM_VERSION" >/dev/null && mkdir npm && tar -xzf "npm-$NPM_VERSION.tgz" -C npm --strip-components=1)

export BUILDAH_ISOLATION=chroot # no OCI runtime needed for the few RUNs here
ctr=$(buildah from scratch)
buildah add "$ctr" "$work/rootfs.tar" / >/dev/null
buildah copy --chmod 0755 "$ctr" "$NODE_BIN" /usr/local/bin/node >/dev/null
buildah copy "$ctr" "$work/npm" /usr/local/lib/node_modules/npm >/dev/null
buildah run "$ctr" -- ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
buildah run "$ctr" -- ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx
buildah run "$ctr" -- node -e 'if (!process.versions.node.startsWith("24.")) process.exit(1)'
buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env NPM_CONFIG_UPDATE_NOTIFIER=false --cmd node "$ctr"
buildah commit --quiet --rm "$ctr" "$IMAGE" >/dev/null
ctr=
log "built $IMAGE"
echo "$IMAGE"
