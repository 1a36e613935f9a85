#!/usr/bin/env bash
# The daemonless container tools the image test needs, from Debian's packages: buildah builds the image,
# podman runs it with runc (crun refuses hybrid cgroup hosts), mmdebstrap makes the local Node 24 base.
# Installs them as root when missing; otherwise stops with the command to run.
set -euo pipefail
log() { printf '[image-tools %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
missing=()
for tool in buildah podman runc mmdebstrap; do command -v "$tool" >/dev/null || missing+=("$tool"); done
((${#missing[@]} == 0)) && exit 0
if [[ $(id -u) -ne 0 ]]; then
  log "error: missing ${missing[*]}; install them (Debian/Ubuntu: sudo apt-get install --no-install-recommends buildah podman runc mmdebstrap)"
  exit 1
fi
log "installing ${missing[*]} (Debian packages)"
export DEBIAN_FRONTEND=noninteractive
apt-get update >&2
apt-get install -y --no-install-recommends buildah podman runc mmdebstrap >&2
