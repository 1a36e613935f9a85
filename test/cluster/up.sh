#!/usr/bin/env bash
# Starts the local GPU cluster: etcd, kube-apiserver (TLS, RBAC, admission webhooks), kube-controller-manager,
# kube-scheduler, kwok (fake GPU nodes from a profile), Prometheus and the DCGM exporter simulator, all on free
# loopback ports. Reuses the cluster of the state directory when it is up and healthy.
# Progress goes to stderr; the last two lines on stdout are
#   KUBECONFIG=<absolute path>
#   PROMETHEUS_URL=http://127.0.0.1:<port>
# Environment: AICOST_CLUSTER_DIR (state), AICOST_CLUSTER_LOGS (logs, kept by down.sh), AICOST_CLUSTER_PROFILE
# (node profile), DCGM_SIM_LABEL_STYLE, DCGM_SIM_HOSTNAME_LABEL, PROMETHEUS_HONOR_LABELS. See docs/local-cluster.md.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=versions.sh
source "$here/versions.sh"

absolute() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac }
STATE=$(absolute "${AICOST_CLUSTER_DIR:-$AICOST_CACHE_DIR/cluster}")
LOGS=$(absolute "${AICOST_CLUSTER_LOGS:-$AICOST_CACHE_DIR/cluster-logs}")
PROFILE=$(absolute "${AICOST_CLUSTER_PROFILE:-$here/profiles/default.yaml}")
NODE="$root/node_modules/.bin/node"
MARKER=.aicost-cluster

log() { printf '[cluster %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ -x "$NODE" ]] || die "Node 24 is missing from $root/node_modules/.bin: run npm ci first"
command -v kubectl >/dev/null || die "kubectl is not on PATH (https://kubernetes.io/docs/tasks/tools/)"
command -v openssl >/dev/null || die "openssl is not on PATH"
[[ -f "$PROFILE" ]] || die "node profile $PROFILE does not exist (AICOST_CLUSTER_PROFILE)"
case ${DCGM_SIM_LABEL_STYLE:-plain} in plain | exported) ;; *) die "DCGM_SIM_LABEL_STYLE must be plain or exported" ;; esac
case ${DCGM_SIM_HOSTNAME_LABEL:-Hostname} in Hostname | hostname) ;; *) die "DCGM_SIM_HOSTNAME_LABEL must be Hostname or hostname" ;; esac
case ${PROMETHEUS_HONOR_LABELS:-true} in true | false) ;; *) die "PROMETHEUS_HONOR_LABELS must be true or false" ;; esac

# One cluster:up or cluster:down at a time per state directory (e.g. a developer and the e2e setup).
mkdir -p "$(dirname "$STATE")" "$LOGS"
if [[ -z ${AICOST_CLUSTER_LOCKED:-} ]] && command -v flock >/dev/null; then
  exec 9>"$STATE.lock"
  flock -w 900 9 || die "another cluster:up or cluster:down holds $STATE.lock"
  export AICOST_CLUSTER_LOCKED=1
fi

port() { cat "$STATE/ports/$1"; }
alive() { [[ -f "$STATE/$1.pid" ]] && kill -0 "$(cat "$STATE/$1.pid")" 2>/dev/null; }
# An HTTP GET in plain bash: curl is not on every machine this runs on.
http_ok() { # port path
  (
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3
    IFS= read -r -t 3 status <&3 || exit 1
    [[ $status == HTTP/1.?" 200"* ]]
  ) 2>/dev/null
}
apiserver_ready() { kubectl --kubeconfig "$STATE/kubeconfig" --request-timeout=3s get --raw /readyz >/dev/null 2>&1; }
print_result() {
  echo "KUBECONFIG=$STATE/kubeconfig"
  echo "PROMETHEUS_URL=http://127.0.0.1:$(port prometheus)"
}
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok dcgm-sim prometheus volume-binder)

# 1. A healthy running cluster is reused.
healthy() {
  [[ -f "$STATE/kubeconfig" && -f "$STATE/ports/prometheus" && -f "$STATE/ports/dcgm-sim" ]] || return 1
  local c
  for c in "${COMPONENTS[@]}"; do alive "$c" || return 1; done
  apiserver_ready && http_ok "$(port prometheus)" /-/ready && http_ok "$(port dcgm-sim)" /metrics
}
if healthy; then
  log "reusing the running cluster in $STATE (logs in $LOGS)"
  print_result
  exit 0
fi
if [[ -d "$STATE" ]]; then
  log "the cluster in $STATE is not healthy: restarting it"
  bash "$here/down.sh" >&2
fi

# 2. Binaries (built once into the cache) and Prometheus (Debian's package).
bash "$here/build-binaries.sh" >&2 || die "building the cluster's binaries failed (see above)"
for b in etcd kube-apiserver kube-controller-manager kube-scheduler kwok; do
  [[ -x "$BIN_DIR/$b" ]] || die "$BIN_DIR/$b is missing after build-binaries.sh"
done
if ! command -v prometheus >/dev/null; then
  if [[ $(id -u) -ne 0 ]]; then
    die "Prometheus is not installed; install it (Debian/Ubuntu: sudo apt-get install --no-install-recommends prometheus) or put a prometheus binary on PATH"
  fi
  log "installing Prometheus from the Debian package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2 || die "apt-get update failed"
  apt-get install -y --no-install-recommends prometheus >&2 || die "apt-get install prometheus failed"
  # The package may start a system instance (port 9090); this cluster runs its own on a free port.
  if command -v service >/dev/null; then service prometheus stop >/dev/null 2>&1 || true; fi
  command -v prometheus >/dev/null || die "the prometheus package did not install a prometheus binary"
fi
PROMETHEUS=$(command -v prometheus)

start_us=${EPOCHREALTIME/./}
# A broken profile fails here, before anything starts.
"$NODE" --input-type=module -e '
  import { loadProfile } from "'"$here"'/profile.ts";
  try { loadProfile(process.argv[1]); } catch (e) { console.error(e.message); process.exit(1); }' "$PROFILE" ||
  die "the node profile is invalid (AICOST_CLUSTER_PROFILE=$PROFILE)"
rm -rf "$STATE"
mkdir -p "$STATE/ports" "$STATE/pki"
echo "created $(date -u +%Y-%m-%dT%H:%M:%SZ) by $root" >"$STATE/$MARKER"
head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$STATE/cluster-id"
# The logs of the previous cluster move aside, so that each file holds one run; the folder survives down.sh.
if compgen -G "$LOGS/*.log" >/dev/null; then
  rm -rf "$LOGS/previous" && mkdir -p "$LOGS/previous" && mv "$LOGS"/*.log "$LOGS/previous/"
fi
log "state in $STATE, logs in $LOGS"

# Cleans up a half-started cluster so that its ports and processes do not linger; the logs stay.
started_ok=0
on_exit() {
  if [[ $started_ok -eq 0 ]]; then
    log "cluster:up failed; component logs are in $LOGS"
    if [[ -z ${AICOST_CLUSTER_KEEP_ON_FAILURE:-} ]]; then bash "$here/down.sh" >&2 || true; fi
  fi
}
trap on_exit EXIT

# 3. Free loopback ports, all taken at once so that no two components get the same one.
names=(etcd etcd-peer apiserver kcm scheduler kwok prometheus dcgm-sim)
read -r -a ports < <("$NODE" -e '
  const net = require("node:net");
  const n = Number(process.argv[1]);
  const servers = Array.from({ length: n }, () => net.createServer());
  Promise.all(servers.map((s) => new Promise((ok, fail) => s.once("error", fail).listen(0, "127.0.0.1", ok))))
    .then(() => { console.log(servers.map((s) => s.address().port).join(" ")); servers.forEach((s) => s.close()); })
    .catch((e) => { console.error(e.message); process.exit(1); });' "${#names[@]}")
[[ ${#ports[@]} -eq ${#names[@]} ]] || die "could not find ${#names[@]} free loopback ports"
for i in "${!names[@]}"; do echo "${ports[$i]}" >"$STATE/ports/${names[$i]}"; done

# 4. Certificates: a CA, the API server's serving certificate, an admin client certificate (system:masters),
# the service-account signing key pair. EC keys: generated instantly, unlike RSA.
pki="$STATE/pki"
(
  cd "$pki"
  key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key"; }
  key ca
  openssl req -x509 -new -key ca.key -days 365 -subj "/CN=aicost-local-ca" -out ca.crt \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"
  sign() { # name subject extensions
    key "$1"
    openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
    printf '%s\n' "$3" >"$1.ext"
    openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 365 -extfile "$1.ext" -out "$1.crt"
  }
  sign apiserver "/CN=kube-apiserver" "$(printf '%s\n' \
    'basicConstraints=CA:FALSE' 'keyUsage=critical,digitalSignature,keyEncipherment' 'extendedKeyUsage=serverAuth' \
    'subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local')"
  sign admin "/O=system:masters/CN=aicost-admin" "$(printf '%s\n' \
    'basicConstraints=CA:FALSE' 'keyUsage=critical,digitalSignature,keyEncipherment' 'extendedKeyUsage=clientAuth')"
  # kube-controller-manager's own identity, as kubeadm gives it: with --use-service-account-credentials each
  # controller then acts as its own service account (replicaset-controller, job-controller...), which is what the
  # admission webhook sees as the creator of a workload's pods (docs/budgets.md, "New or replacement").
  sign kcm "/CN=system:kube-controller-manager" "$(printf '%s\n' \
    'basicConstraints=CA:FALSE' 'keyUsage=critical,digitalSignature,keyEncipherment' 'extendedKeyUsage=clientAuth')"
  key sa
  openssl pkey -in sa.key -pubout -out sa.pub
) >"$LOGS/pki.log" 2>&1 || { tail -n 20 "$LOGS/pki.log" >&2; die "generating certificates with openssl failed"; }

b64() { base64 <"$1" | tr -d '\n'; }
write_kubeconfig() { # file user cert
  cat >"$1" <<YAML
apiVersion: v1
kind: Config
clusters:
  - name: aicost-local
    cluster:
      server: https://127.0.0.1:$(port apiserver)
      certificate-authority-data: $(b64 "$pki/ca.crt")
users:
  - name: $2
    user:
      client-certificate-data: $(b64 "$pki/$3.crt")
      client-key-data: $(b64 "$pki/$3.key")
contexts:
  - name: aicost-local
    context: { cluster: aicost-local, user: $2 }
current-context: aicost-local
YAML
  chmod 600 "$1"
}
kubeconfig="$STATE/kubeconfig"
write_kubeconfig "$kubeconfig" aicost-admin admin
write_kubeconfig "$STATE/kcm.kubeconfig" system:kube-controller-manager kcm
export KUBECONFIG="$kubeconfig"

launch() { # name command...: in its own session (down.sh signals the group), without the lock's descriptor
  local name=$1
  shift
  printf '=== %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >>"$LOGS/$name.log"
  setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null 9>&- &
  echo $! >"$STATE/$name.pid"
}
wait_until() { # component timeout-seconds description command...
  local component=$1 timeout=$2 what=$3
  shift 3
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ! alive "$component"; then
      log "$component exited while waiting for $what; last lines of $LOGS/$component.log:"
      tail -n 40 "$LOGS/$component.log" >&2 || true
      exit 1
    fi
    if ((SECONDS > deadline)); then
      log "$what: not after ${timeout}s; last lines of $LOGS/$component.log:"
      tail -n 40 "$LOGS/$component.log" >&2 || true
      exit 1
    fi
    sleep 0.2
  done
}

# 5. The control plane.
log "starting etcd and kube-apiserver"
launch etcd "$BIN_DIR/etcd" --name local --data-dir "$STATE/etcd" --unsafe-no-fsync --log-level warn \
  --listen-client-urls "http://127.0.0.1:$(port etcd)" --advertise-client-urls "http://127.0.0.1:$(port etcd)" \
  --listen-peer-urls "http://127.0.0.1:$(port etcd-peer)" --initial-advertise-peer-urls "http://127.0.0.1:$(port etcd-peer)" \
  --initial-cluster "local=http://127.0.0.1:$(port etcd-peer)"
wait_until etcd 30 "etcd to be healthy" http_ok "$(port etcd)" /health

launch kube-apiserver "$BIN_DIR/kube-apiserver" \
  --etcd-servers "http://127.0.0.1:$(port etcd)" \
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$(port apiserver)" \
  --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" --cert-dir "$STATE/apiserver" \
  --client-ca-file "$pki/ca.crt" \
  --authorization-mode Node,RBAC \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
  --service-cluster-ip-range 10.0.0.0/24 --allow-privileged=true
wait_until kube-apiserver 90 "kube-apiserver /readyz" apiserver_ready

log "starting kube-controller-manager, kube-scheduler and kwok; creating the nodes of $PROFILE"
launch kube-controller-manager "$BIN_DIR/kube-controller-manager" --kubeconfig "$STATE/kcm.kubeconfig" \
  --authentication-kubeconfig "$kubeconfig" --authorization-kubeconfig "$kubeconfig" --authentication-skip-lookup \
  --bind-address 127.0.0.1 --secure-port "$(port kcm)" --leader-elect=false \
  --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" --use-service-account-credentials=true \
  --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" \
  --controllers '*,-node-ipam-controller,-service-lb-controller,-node-route-controller,-cloud-node-lifecycle-controller'
launch kube-scheduler "$BIN_DIR/kube-scheduler" --kubeconfig "$kubeconfig" \
  --authentication-kubeconfig "$kubeconfig" --authorization-kubeconfig "$kubeconfig" --authentication-skip-lookup \
  --bind-address 127.0.0.1 --secure-port "$(port scheduler)" --leader-elect=false
# kwok plays the kubelet of the annotated nodes; its stages keep pods Running until they are deleted.
bash "$here/kwok-stages.sh" "$STATE/kwok-stages.yaml" || die "could not assemble kwok's stages"
launch kwok "$BIN_DIR/kwok" --kubeconfig "$kubeconfig" --config "$STATE/kwok-stages.yaml" \
  --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
  --node-lease-duration-seconds 40 --cidr 10.244.0.0/16 --node-ip 10.240.0.1 \
  --server-address "127.0.0.1:$(port kwok)"
"$NODE" "$here/apply-profile.ts" --kubeconfig "$kubeconfig" --profile "$PROFILE" 2>>"$LOGS/apply-profile.log" ||
  { tail -n 30 "$LOGS/apply-profile.log" >&2; die "creating the nodes of $PROFILE failed"; }

# 6. The DCGM simulator, and Prometheus scraping it every 5 s.
# A default StorageClass and a volume per claim of it (issue #18), so that pods with PVCs schedule.
launch volume-binder "$NODE" "$here/volume-binder.ts" --kubeconfig "$kubeconfig"
log "starting the DCGM exporter simulator and Prometheus"
launch dcgm-sim "$NODE" "$here/dcgm-sim.ts" --kubeconfig "$kubeconfig" --port "$(port dcgm-sim)" \
  --label-style "${DCGM_SIM_LABEL_STYLE:-plain}" --hostname-label "${DCGM_SIM_HOSTNAME_LABEL:-Hostname}"
# The target labels stand for those a ServiceMonitor adds (the exporter pod's own namespace and pod): with
# honor_labels the series' pod labels win, free GPUs keep the exporter's, as in a real cluster.
cat >"$STATE/prometheus.yml" <<YAML
global:
  scrape_interval: 5s
  evaluation_interval: 5s
scrape_configs:
  - job_name: dcgm-exporter
    honor_labels: ${PROMETHEUS_HONOR_LABELS:-true}
    static_configs:
      - targets: ['127.0.0.1:$(port dcgm-sim)']
        labels: { namespace: gpu-operator, pod: dcgm-exporter-local, service: dcgm-exporter }
  # An operator on this machine at the chart's metrics port: the image test's container, or npm start.
  - job_name: aicost-operator
    static_configs:
      - targets: ['127.0.0.1:8080']
YAML
launch prometheus "$PROMETHEUS" --config.file "$STATE/prometheus.yml" --storage.tsdb.path "$STATE/prometheus" \
  --web.listen-address "127.0.0.1:$(port prometheus)" --web.enable-lifecycle --storage.tsdb.retention.time 2d

nodes_ready() {
  local want
  want=$(kubectl get nodes -l aicost.dev/local-cluster-node=true -o name | wc -l)
  ((want > 0)) && [[ $(kubectl get nodes -l aicost.dev/local-cluster-node=true \
    -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c '^True$') -eq $want ]]
}
wait_until kwok 60 "the profile's nodes to become Ready" nodes_ready
wait_until kube-controller-manager 60 "the default ServiceAccount" kubectl -n default get serviceaccount default
wait_until dcgm-sim 60 "the DCGM simulator to list the cluster" http_ok "$(port dcgm-sim)" /healthz
wait_until prometheus 60 "Prometheus to be ready" http_ok "$(port prometheus)" /-/ready
wait_until volume-binder 60 "the default StorageClass" kubectl get storageclass local-binder

cat >"$STATE/cluster.env" <<ENV
KUBECONFIG=$kubeconfig
PROMETHEUS_URL=http://127.0.0.1:$(port prometheus)
DCGM_SIM_URL=http://127.0.0.1:$(port dcgm-sim)/metrics
AICOST_CLUSTER_LOGS=$LOGS
ENV
started_ok=1
elapsed_ms=$(((${EPOCHREALTIME/./} - start_us) / 1000))
log "cluster up in $((elapsed_ms / 1000)).$(printf '%03d' $((elapsed_ms % 1000)))s; try: kubectl --kubeconfig $kubeconfig get nodes"
print_result
