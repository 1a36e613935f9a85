#!/usr/bin/env bash
# Installs Debian's chromium for the browser tier (the HTML report rendered in a real headless browser), the
# way test/cluster/up.sh installs prometheus: with apt-get, as root, once. Idempotent: does nothing when a
# chromium is already there (CHROMIUM, else /usr/bin/chromium). Prints the binary's path on stdout.
set -euo pipefail
die() { printf 'install-chromium: %s\n' "$*" >&2; exit 1; }

chromium=${CHROMIUM:-/usr/bin/chromium}
if [[ -x $chromium ]]; then
  echo "$chromium"
  exit 0
fi
[[ -n ${CHROMIUM:-} ]] && die "CHROMIUM=$CHROMIUM is not an executable"
if [[ $(id -u) -ne 0 ]]; then
  die "chromium is not installed; install it (Debian: sudo apt-get install --no-install-recommends chromium) or set CHROMIUM to a chromium binary"
fi
command -v apt-get >/dev/null || die "chromium is not installed and there is no apt-get to install it with; set CHROMIUM"
printf 'install-chromium: installing Debian chromium with apt-get (once)\n' >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update >&2 || die "apt-get update failed"
apt-get install -y --no-install-recommends chromium >&2 || die "apt-get install chromium failed"
[[ -x /usr/bin/chromium ]] || die "the chromium package did not install /usr/bin/chromium"
echo /usr/bin/chromium
