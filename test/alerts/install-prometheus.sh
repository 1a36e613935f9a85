#!/usr/bin/env bash
# Installs what the alerts tier runs: Debian's prometheus (prometheus, promtool) and prometheus-alertmanager
# (the alertmanager, amtool), the way test/cluster/up.sh installs prometheus: with apt-get, as root, once.
# Idempotent: installs only what is missing. The packages may start system instances on the default ports; those
# are stopped, since the test runs its own on free ports. PROMETHEUS, PROMTOOL, ALERTMANAGER and AMTOOL name
# other binaries. Prints four lines on stdout:
#   PROMETHEUS=<path>
#   PROMTOOL=<path>
#   ALERTMANAGER=<path>
#   AMTOOL=<path>
set -euo pipefail
die() { printf 'install-prometheus: %s\n' "$*" >&2; exit 1; }

find_prometheus() { [[ -n ${PROMETHEUS:-} ]] && echo "$PROMETHEUS" || command -v prometheus || true; }
find_promtool() { [[ -n ${PROMTOOL:-} ]] && echo "$PROMTOOL" || command -v promtool || true; }
# Debian names the binary after its package; upstream's tarball calls it alertmanager.
find_alertmanager() {
  [[ -n ${ALERTMANAGER:-} ]] && echo "$ALERTMANAGER" || command -v prometheus-alertmanager || command -v alertmanager || true
}
find_amtool() { [[ -n ${AMTOOL:-} ]] && echo "$AMTOOL" || command -v amtool || true; }

missing=()
[[ -x $(find_prometheus) && -x $(find_promtool) ]] || missing+=(prometheus)
[[ -x $(find_alertmanager) && -x $(find_amtool) ]] || missing+=(prometheus-alertmanager)
if [[ ${#missing[@]} -gt 0 ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    die "${missing[*]} not installed; install (Debian: sudo apt-get install --no-install-recommends ${missing[*]}) or set PROMETHEUS, PROMTOOL, ALERTMANAGER and AMTOOL"
  fi
  command -v apt-get >/dev/null || die "${missing[*]} not installed and there is no apt-get to install with; set PROMETHEUS, PROMTOOL, ALERTMANAGER and AMTOOL"
  printf 'install-prometheus: installing %s with apt-get (once)\n' "${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # Another install on the machine (test/cluster/up.sh installs prometheus too) holds the lock for a while.
  apt=(apt-get -o DPkg::Lock::Timeout=600)
  "${apt[@]}" update >&2 || die "apt-get update failed"
  "${apt[@]}" install -y --no-install-recommends "${missing[@]}" >&2 || die "apt-get install ${missing[*]} failed"
  if command -v service >/dev/null; then
    for s in "${missing[@]}"; do service "$s" stop >/dev/null 2>&1 || true; done
  fi
fi
for name in prometheus promtool alertmanager amtool; do
  path=$("find_$name")
  [[ -x $path ]] || die "no $name binary after the install (looked for ${path:-it on PATH})"
  printf '%s=%s\n' "${name^^}" "$path"
done
