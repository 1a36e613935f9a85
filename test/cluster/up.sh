#!/usr/bin/env bash
# Starts the local GPU cluster: etcd, kube-apiserver (TLS, RBAC, admission webhooks), kube-controller-manager,
# kube-scheduler, kwok (fake GPU nodes from a profile), Prometheus and the DCGM exporter simulator, all on free
# loopback ports. Reuses a running cluster. Progress goes to stderr; the last two lines on stdout are
#   KUBECONFIG=<path>
#   PROMETHEUS_URL=http://127.0.0.1:<port>
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=versions.sh
source "$here/versions.sh"
STATE=${AICOST_CLUSTER_DIR:-$AICOST_CACHE_DIR/cluster}
LOGS=${AICOST_CLUSTER_LOGS:-$AICOST_CACHE_DIR/cluster-logs}
PROFILE=${AICOST_CLUSTER_PROFILE:-$here/profiles/default.yaml}
NODE="$root/node_modules/.bin/node"

log() { printf '[cluster %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
alive() { [[ -f "$STATE/$1.pid" ]] && kill -0 "$(cat "$STATE/$1.pid")" 2>/dev/null; }
print_result() { echo "KUBECONFIG=$STATE/kubeconfig"; echo "PROMETHEUS_URL=http://127.0.0.1:$(cat "$STATE/ports/prometheus")"; }

[[ -x "$NODE" ]] || die "run npm ci first: $NODE is missing"
command -v kubectl >/dev/null || die "kubectl is not installed"
command -v openssl >/dev/null || die "openssl is not installed"

# 1. A running cluster is reused.
if [[ -f "$STATE/kubeconfig" ]] && alive kube-apiserver && alive prometheus && alive dcgm-sim && alive kwok &&
  kubectl --kubeconfig "$STATE/kubeconfig" get --raw /readyz >/dev/null 2>&1; then
  log "reusing the running cluster in $STATE"
  print_result
  exit 0
fi
[[ -d "$STATE" ]] && bash "$here/down.sh" >&2

# 2. Binaries (cached) and Prometheus (Debian package).
bash "$here/build-binaries.sh"
if ! command -v prometheus >/dev/null; then
  [[ $(id -u) -eq 0 ]] || die "Prometheus is missing: install the Debian package 'prometheus' (apt-get install prometheus)"
  log "installing Prometheus from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends prometheus >&2
  # The package may start its own service; this cluster runs its own instance on a free port.
  (command -v service >/dev/null && service prometheus stop >/dev/null 2>&1) || true
fi

start=$(date +%s)
mkdir -p "$STATE/ports" "$STATE/pki" "$LOGS"
log "state in $STATE, logs in $LOGS"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
for name in etcd etcd-peer apiserver kcm scheduler kwok prometheus dcgm-sim; do free_port >"$STATE/ports/$name"; done
port() { cat "$STATE/ports/$1"; }

# 3. Certificates: a CA, the API server's serving cert, an admin client cert, the service-account keys.
pki="$STATE/pki"
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=aicost-local-ca" -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" -keyout "$pki/apiserver.key" -out "$pki/apiserver.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:10.0.0.1\n' >"$pki/apiserver.ext"
openssl x509 -req -in "$pki/apiserver.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 30 -extfile "$pki/apiserver.ext" -out "$pki/apiserver.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/O=system:masters/CN=admin" -keyout "$pki/admin.key" -out "$pki/admin.csr" 2>/dev/null
openssl x509 -req -in "$pki/admin.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 30 -out "$pki/admin.crt" 2>/dev/null
openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null

kubeconfig="$STATE/kubeconfig"
kubectl config --kubeconfig "$kubeconfig" set-cluster local --server "https://127.0.0.1:$(port apiserver)" --certificate-authority "$pki/ca.crt" --embed-certs >/dev/null
kubectl config --kubeconfig "$kubeconfig" set-credentials admin --client-certificate "$pki/admin.crt" --client-key "$pki/admin.key" --embed-certs >/dev/null
kubectl config --kubeconfig "$kubeconfig" set-context local --cluster local --user admin >/dev/null
kubectl config --kubeconfig "$kubeconfig" use-context local >/dev/null
export KUBECONFIG="$kubeconfig"

launch() { # name command...
  local name=$1; shift
  setsid "$@" >>"$LOGS/$name.log" 2>&1 < /dev/null &
  echo $! >"$STATE/$name.pid"
}
wait_for() { # description timeout-seconds log command...
  local what=$1 timeout=$2 logname=$3; shift 3
  local deadline=$(( $(date +%s) + timeout ))
  until "$@" >/dev/null 2>&1; do
    if (( $(date +%s) > deadline )); then
      log "$what did not come up in ${timeout}s; last lines of $LOGS/$logname.log:"
      tail -n 30 "$LOGS/$logname.log" >&2 || true
      exit 1
    fi
    sleep 0.3
  done
}

# 4. The control plane.
log "starting etcd"
launch etcd "$BIN_DIR/etcd" --name local --data-dir "$STATE/etcd" --unsafe-no-fsync \
  --listen-client-urls "http://127.0.0.1:$(port etcd)" --advertise-client-urls "http://127.0.0.1:$(port etcd)" \
  --listen-peer-urls "http://127.0.0.1:$(port etcd-peer)" --initial-advertise-peer-urls "http://127.0.0.1:$(port etcd-peer)" \
  --initial-cluster "local=http://127.0.0.1:$(port etcd-peer)" --log-level warn
wait_for etcd 30 etcd curl -sf "http://127.0.0.1:$(port etcd)/health"

log "starting kube-apiserver"
launch kube-apiserver "$BIN_DIR/kube-apiserver" \
  --etcd-servers "http://127.0.0.1:$(port etcd)" --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$(port apiserver)" \
  --cert-dir "$STATE/apiserver-certs" --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
  --client-ca-file "$pki/ca.crt" --authorization-mode Node,RBAC --allow-privileged=true \
  --service-cluster-ip-range 10.0.0.0/24 --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
  --enable-admission-plugins NamespaceLifecycle,ServiceAccount,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ValidatingAdmissionPolicy,ResourceQuota
wait_for kube-apiserver 60 kube-apiserver kubectl get --raw /readyz

log "starting kube-controller-manager, kube-scheduler and kwok"
launch kube-controller-manager "$BIN_DIR/kube-controller-manager" --kubeconfig "$kubeconfig" \
  --authentication-kubeconfig "$kubeconfig" --authorization-kubeconfig "$kubeconfig" \
  --bind-address 127.0.0.1 --secure-port "$(port kcm)" --leader-elect=false \
  --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" --use-service-account-credentials=false \
  --controllers '*,-nodeipam,-service-lb-controller,-route,-cloud-node-lifecycle' --node-monitor-grace-period 60s
launch kube-scheduler "$BIN_DIR/kube-scheduler" --kubeconfig "$kubeconfig" \
  --authentication-kubeconfig "$kubeconfig" --authorization-kubeconfig "$kubeconfig" \
  --bind-address 127.0.0.1 --secure-port "$(port scheduler)" --leader-elect=false

# kwok's stages, taken from the installed kwok module: nodes become Ready and keep a heartbeat lease, pods
# become Running and stay so (its pod-complete stage is left out: training Jobs must keep running).
stages="$STATE/kwok.yaml"
kwok_src=$(GOFLAGS=-mod=mod go env GOMODCACHE)/sigs.k8s.io/kwok@$KWOK_VERSION/kustomize/stage
[[ -d "$kwok_src" ]] || die "kwok's stage definitions are missing from $kwok_src (run $here/build-binaries.sh)"
{
  for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml pod/fast/pod-ready.yaml pod/fast/pod-delete.yaml; do
    printf -- '---\n'; cat "$kwok_src/$f"; printf '\n'
  done
} >"$stages"
launch kwok "$BIN_DIR/kwok" --kubeconfig "$kubeconfig" --config "$stages" \
  --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
  --node-lease-duration-seconds 40 --server-address "127.0.0.1:$(port kwok)"

# 5. Nodes from the profile, then the default ServiceAccount the pods of a namespace need.
log "creating nodes from $PROFILE"
"$NODE" "$here/apply-profile.ts" "$PROFILE"
wait_for "the default ServiceAccount" 60 kube-controller-manager kubectl -n default get serviceaccount default

# 6. The DCGM simulator and Prometheus scraping it every 5 s.
log "starting the DCGM exporter simulator and Prometheus"
launch dcgm-sim "$NODE" "$here/dcgm-sim.ts" --kubeconfig "$kubeconfig" --port "$(port dcgm-sim)" \
  --label-style "${DCGM_SIM_LABEL_STYLE:-plain}" --hostname-label "${DCGM_SIM_HOSTNAME_LABEL:-Hostname}"
cat >"$STATE/prometheus.yml" <<YAML
global:
  scrape_interval: 5s
  evaluation_interval: 5s
scrape_configs:
  - job_name: dcgm-exporter
    honor_labels: ${PROMETHEUS_HONOR_LABELS:-true}
    static_configs:
      - targets: ['127.0.0.1:$(port dcgm-sim)']
        labels: { namespace: gpu-operator, pod: dcgm-exporter-local }
YAML
launch prometheus prometheus --config.file "$STATE/prometheus.yml" --storage.tsdb.path "$STATE/prometheus" \
  --web.listen-address "127.0.0.1:$(port prometheus)" --web.enable-lifecycle --storage.tsdb.retention.time 1d
wait_for dcgm-sim 30 dcgm-sim curl -sf "http://127.0.0.1:$(port dcgm-sim)/metrics"
wait_for prometheus 30 prometheus curl -sf "http://127.0.0.1:$(port prometheus)/-/ready"
wait_for "the nodes to become Ready" 60 kwok bash -c "[ \$(kubectl get nodes --no-headers | grep -c ' Ready') -ge \$(kubectl get nodes --no-headers | wc -l) ]"

log "cluster up in $(( $(date +%s) - start ))s"
print_result
