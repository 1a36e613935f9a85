{{/* Chart name, overridable. */}}
{{- define "aicost.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Full name: release and chart, without repeating the chart name. */}}
{{- define "aicost.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "aicost.selectorLabels" -}}
app.kubernetes.io/name: {{ include "aicost.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "aicost.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "aicost.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "aicost.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "aicost.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "aicost.webhookService" -}}
{{- printf "%s-webhook" (include "aicost.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The Secret holding the webhook's serving certificate. */}}
{{- define "aicost.webhookSecret" -}}
{{- if eq .Values.webhook.certificate.source "secret" -}}
{{- required "webhook.certificate.secretName is required with webhook.certificate.source=secret" .Values.webhook.certificate.secretName -}}
{{- else -}}
{{- printf "%s-webhook-cert" (include "aicost.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* The metrics port's name says its scheme, for the Service, the ServiceMonitor and service meshes. */}}
{{- define "aicost.metricsPortName" -}}
{{- if .Values.metrics.secure -}}https-metrics{{- else -}}http-metrics{{- end -}}
{{- end -}}

{{/*
The pods of the webhook's own Deployment (webhook.separateDeployment): a name of their own, so that the
operator's selector, metrics Service, PodDisruptionBudget and NetworkPolicy never match them.
*/}}
{{- define "aicost.webhookSelectorLabels" -}}
app.kubernetes.io/name: {{ include "aicost.name" . }}-webhook
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Its ServiceAccount: one of its own when the chart creates them (it needs far fewer rights). */}}
{{- define "aicost.webhookServiceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- printf "%s-webhook" (include "aicost.serviceAccountName" .) | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- include "aicost.serviceAccountName" . -}}
{{- end -}}
{{- end -}}

{{/* The webhook's flags, in whichever Deployment serves it. */}}
{{- define "aicost.webhookArgs" -}}
- --webhook-port=9443
- --webhook-cert-dir=/etc/aicost/webhook-certs
- --spot-conventions={{ .Values.webhook.spotConventions }}
# A request must be read well before the API server gives up on the call (timeoutSeconds).
- --webhook-read-timeout={{ min 2000 (sub (mul (int .Values.webhook.timeoutSeconds) 1000) 500) }}ms
{{- end -}}

{{/* The namespace and identity, from the downward API. */}}
{{- define "aicost.identityEnv" -}}
# The operator's own namespace (never acted on; holds the Lease) and its identity in the Lease.
- name: AICOST_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: AICOST_IDENTITY
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- end -}}

{{/* Liveness on /healthz, readiness on /readyz. */}}
{{- define "aicost.probes" -}}
livenessProbe:
  httpGet:
    path: /healthz
    port: health
  periodSeconds: 20
# Ready once every cache has synced; a standby is ready too (it serves the webhook).
readinessProbe:
  httpGet:
    path: /readyz
    port: health
  periodSeconds: 10
{{- end -}}

{{/* Where a Deployment's pods run; "selector" is its selector labels, for the spread over nodes. */}}
{{- define "aicost.podScheduling" -}}
{{- $values := .root.Values -}}
{{- if $values.topologySpread.enabled }}
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- .selector | nindent 8 }}
{{- end }}
{{- with $values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* A NetworkPolicy's ingress: metrics (from metricsFrom), probes if asked, the webhook's port when "webhook". */}}
{{- define "aicost.ingressRules" -}}
{{- $np := .root.Values.networkPolicy -}}
- ports:
    - port: 8080
      protocol: TCP
  from:
    - namespaceSelector:
        {{- toYaml $np.metricsFrom.namespaceSelector | nindent 8 }}
      podSelector:
        {{- toYaml $np.metricsFrom.podSelector | nindent 8 }}
{{- if $np.probesFromAnywhere }}
- ports:
    - port: 8081
      protocol: TCP
{{- end }}
{{- if .webhook }}
- ports:
    - port: 9443
      protocol: TCP
{{- end }}
{{- end -}}

{{/* The metrics port's flags, in either Deployment: secure /metrics when metrics.secure (docs/security.md). */}}
{{- define "aicost.metricsArgs" -}}
- --metrics-port=8080
{{- if .Values.metrics.secure }}
# /metrics over HTTPS, for callers the API server authenticates and authorizes (docs/security.md).
- --metrics-secure=true
{{- if .Values.metrics.certSecret }}
- --metrics-cert-dir=/etc/aicost/metrics-certs
{{- end }}
{{- end }}
{{- end -}}

{{/* The ledger's PersistentVolumeClaim: the existing one named in the values, else the chart's. */}}
{{- define "aicost.ledgerClaim" -}}
{{- default (printf "%s-ledger" (include "aicost.fullname" .)) .Values.ledger.persistence.existingClaim -}}
{{- end -}}

{{/*
One writer on the ledger's volume. values.schema.json refuses the same values first; these messages say why
when the schema is skipped (helm --skip-schema-validation).
*/}}
{{- define "aicost.checkLedger" -}}
{{- if .Values.ledger.persistence.enabled -}}
{{- if .Values.ledger.s3.bucketUrl -}}
{{- fail "ledger.persistence.enabled and ledger.s3.bucketUrl are exclusive: the ledger is written to one sink" -}}
{{- end -}}
{{- if ne (int .Values.replicaCount) 1 -}}
{{- fail (printf "ledger.persistence.enabled needs replicaCount: 1 (one writer on the volume), not %v" .Values.replicaCount) -}}
{{- end -}}
{{- if ne .Values.strategy.type "Recreate" -}}
{{- fail (printf "ledger.persistence.enabled needs strategy.type: Recreate, not %s (a rolling update starts the new pod while the old one holds the volume)" .Values.strategy.type) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
A duration of the values (30s, 1h30m, 500ms) in whole seconds, rounded up: PromQL (Prometheus 2) compares with
numbers only.
*/}}
{{- define "aicost.durationSeconds" -}}
{{- $ms := 0 -}}
{{- $unitMs := dict "ms" 1 "s" 1000 "m" 60000 "h" 3600000 -}}
{{- range regexFindAll "[0-9]+(ms|s|m|h)" . -1 -}}
{{- $n := regexFind "^[0-9]+" . -}}
{{- $ms = add $ms (mul (atoi $n) (get $unitMs (trimPrefix $n .))) -}}
{{- end -}}
{{- div (add $ms 999) 1000 -}}
{{- end -}}

{{/* An alert's labels: its own (severity...) over prometheusRule.alertLabels, so routing keys stay the chart's. */}}
{{- define "aicost.alertLabels" -}}
{{- toYaml (merge .own (deepCopy .root.Values.prometheusRule.alertLabels)) -}}
{{- end -}}
