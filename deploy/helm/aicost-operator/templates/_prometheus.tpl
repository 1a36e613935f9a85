{{/*
How the operator reaches Prometheus: its flags, and one projected volume with every credential and TLS file
(Secrets, a ConfigMap, a projected service account token) under /etc/aicost/prometheus. The kubelet updates a
projected volume's files when their sources change; the operator re-reads them.
*/}}

{{/* Checks the prometheus values together; fails the render with the value to change. */}}
{{- define "aicost.prometheusChecks" -}}
{{- $p := .Values.prometheus -}}
{{- $ways := list -}}
{{- if or $p.basicAuth.username $p.basicAuth.passwordSecret -}}
{{- if not (and $p.basicAuth.username $p.basicAuth.passwordSecret) -}}
{{- fail "prometheus.basicAuth.username and prometheus.basicAuth.passwordSecret go together" -}}
{{- end -}}
{{- $ways = append $ways "basicAuth" -}}
{{- end -}}
{{- if and $p.bearerToken.secret $p.bearerToken.serviceAccountAudience -}}
{{- fail "prometheus.bearerToken: give secret or serviceAccountAudience, not both" -}}
{{- end -}}
{{- if or $p.bearerToken.secret $p.bearerToken.serviceAccountAudience -}}
{{- $ways = append $ways "bearerToken" -}}
{{- end -}}
{{- if $p.sigv4.region -}}
{{- if not $p.sigv4.credentialsSecret -}}
{{- fail "prometheus.sigv4.credentialsSecret is required with prometheus.sigv4.region" -}}
{{- end -}}
{{- $ways = append $ways "sigv4" -}}
{{- end -}}
{{- if gt (len $ways) 1 -}}
{{- fail (printf "prometheus: %s are %d ways to authenticate, give one" (join " and " $ways) (len $ways)) -}}
{{- end -}}
{{- if and $p.tls.caConfigMap $p.tls.caSecret -}}
{{- fail "prometheus.tls: give caConfigMap or caSecret, not both" -}}
{{- end -}}
{{- if and (or $p.tls.caConfigMap $p.tls.caSecret $p.tls.clientCertSecret $p.sigv4.region) (not (hasPrefix "https://" $p.url)) -}}
{{- fail "prometheus.tls and prometheus.sigv4 need an https:// prometheus.url" -}}
{{- end -}}
{{- $ledgerSecret := .Values.ledger.s3.credentialsSecret -}}
{{- if and $p.sigv4.credentialsSecret $ledgerSecret .Values.ledger.s3.bucketUrl (ne $p.sigv4.credentialsSecret $ledgerSecret) -}}
{{- fail "prometheus.sigv4.credentialsSecret and ledger.s3.credentialsSecret are both read as AWS_*: name the same Secret" -}}
{{- end -}}
{{- end -}}

{{/* Whether any file goes into the volume: "true" or "". */}}
{{- define "aicost.prometheusFiles" -}}
{{- $p := .Values.prometheus -}}
{{- if or $p.basicAuth.passwordSecret $p.bearerToken.secret $p.bearerToken.serviceAccountAudience $p.tls.caConfigMap $p.tls.caSecret $p.tls.clientCertSecret -}}
true
{{- end -}}
{{- end -}}

{{/* The operator's Prometheus flags, as container args. */}}
{{- define "aicost.prometheusArgs" -}}
{{- $p := .Values.prometheus -}}
{{- $dir := "/etc/aicost/prometheus" -}}
- --prometheus-url={{ $p.url }}
{{- with $p.dcgmSelector }}
- {{ printf "--dcgm-selector=%s" . | quote }}
{{- end }}
{{- with $p.inferenceSelector }}
- {{ printf "--inference-selector=%s" . | quote }}
{{- end }}
{{- range $name, $value := $p.headers }}
- {{ printf "--prometheus-header=%s: %s" $name $value | quote }}
{{- end }}
{{- if $p.basicAuth.username }}
- {{ printf "--prometheus-username=%s" $p.basicAuth.username | quote }}
- --prometheus-password-file={{ $dir }}/password
{{- end }}
{{- if $p.bearerToken.secret }}
- --prometheus-bearer-token-file={{ $dir }}/token
{{- else if $p.bearerToken.serviceAccountAudience }}
- --prometheus-bearer-token-file={{ $dir }}/service-account-token
{{- end }}
{{- if or $p.tls.caConfigMap $p.tls.caSecret }}
- --prometheus-ca-file={{ $dir }}/ca.crt
{{- end }}
{{- if $p.tls.clientCertSecret }}
- --prometheus-cert-file={{ $dir }}/client.crt
- --prometheus-key-file={{ $dir }}/client.key
{{- end }}
{{- with $p.sigv4.region }}
- --prometheus-sigv4-region={{ . }}
{{- end }}
{{- end -}}

{{/* The projected volume's sources. */}}
{{- define "aicost.prometheusVolume" -}}
{{- $p := .Values.prometheus -}}
- name: prometheus-credentials
  projected:
    defaultMode: 0440
    sources:
      {{- with $p.basicAuth.passwordSecret }}
      - secret:
          name: {{ . }}
          items: [{ key: password, path: password }]
      {{- end }}
      {{- with $p.bearerToken.secret }}
      - secret:
          name: {{ . }}
          items: [{ key: token, path: token }]
      {{- end }}
      {{- with $p.bearerToken.serviceAccountAudience }}
      - serviceAccountToken:
          audience: {{ . | quote }}
          expirationSeconds: 3600
          path: service-account-token
      {{- end }}
      {{- with $p.tls.caConfigMap }}
      - configMap:
          name: {{ . }}
          items: [{ key: ca.crt, path: ca.crt }]
      {{- end }}
      {{- with $p.tls.caSecret }}
      - secret:
          name: {{ . }}
          items: [{ key: ca.crt, path: ca.crt }]
      {{- end }}
      {{- with $p.tls.clientCertSecret }}
      - secret:
          name: {{ . }}
          items: [{ key: tls.crt, path: client.crt }, { key: tls.key, path: client.key }]
      {{- end }}
{{- end -}}
