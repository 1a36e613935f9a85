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
