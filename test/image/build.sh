#!/usr/bin/env bash
# Builds the operator's image from the project's Dockerfile with buildah, on the local Node 24 base of
# build-base.sh (or BASE_IMAGE when given), as `localhost/aicost-operator:test`. Prints the image name on stdout.
# Layers are cached, so a rebuild after a source change reruns only the steps after it.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
IMAGE=${AICOST_IMAGE:-localhost/aicost-operator:test}

log() { printf '[image %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
bash "$here/install-tools.sh"

base=${BASE_IMAGE:-$(bash "$here/build-base.sh")}
args=(--isolation chroot --network host --layers --build-arg "BASE_IMAGE=$base")
commit=$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)
# An image built from a changed tree is not that commit.
[[ $commit != unknown && -n $(git -C "$root" status --porcelain 2>/dev/null) ]] && commit+=-dirty
args+=(--build-arg "GIT_COMMIT=$commit")
# The machine's extra CA (a TLS-inspecting proxy in front of the npm registry), for npm ci in the build only.
if [[ -n ${NODE_EXTRA_CA_CERTS:-} && -f $NODE_EXTRA_CA_CERTS ]]; then
  args+=(--volume "$NODE_EXTRA_CA_CERTS:/run/aicost-build-ca.crt:ro" --build-arg NODE_EXTRA_CA_CERTS=/run/aicost-build-ca.crt)
fi
log "building $IMAGE on $base"
buildah bud --quiet "${args[@]}" -t "$IMAGE" -f "$root/Dockerfile" "$root" >&2
log "built $IMAGE ($(buildah inspect --type image --format '{{.FromImageID}}' "$IMAGE" | cut -c1-12))"
echo "$IMAGE"
