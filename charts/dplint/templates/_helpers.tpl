{{/* Chart name. */}}
{{- define "dplint.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release name, plus the chart name unless the release name contains it. */}}
{{- define "dplint.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "dplint.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "dplint.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dplint.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "dplint.labels" -}}
helm.sh/chart: {{ include "dplint.chart" . }}
{{ include "dplint.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: admission-webhook
app.kubernetes.io/part-of: dplint
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "dplint.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "dplint.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "dplint.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/* The Secret the serving certificate is mounted from. */}}
{{- define "dplint.tlsSecretName" -}}
{{- if eq .Values.tls.mode "existingSecret" }}
{{- required "tls.existingSecret.name is required with tls.mode=existingSecret" .Values.tls.existingSecret.name }}
{{- else }}
{{- printf "%s-tls" (include "dplint.fullname" .) }}
{{- end }}
{{- end }}

{{- define "dplint.tlsCertKey" -}}
{{- if eq .Values.tls.mode "existingSecret" }}{{ .Values.tls.existingSecret.certKey }}{{ else }}tls.crt{{ end }}
{{- end }}

{{- define "dplint.tlsKeyKey" -}}
{{- if eq .Values.tls.mode "existingSecret" }}{{ .Values.tls.existingSecret.keyKey }}{{ else }}tls.key{{ end }}
{{- end }}

{{/* HOST:PORT for a listen flag; IPv6 hosts get brackets. */}}
{{- define "dplint.hostPort" -}}
{{- $host := index . 0 }}{{ $port := index . 1 }}
{{- if contains ":" $host }}{{ printf "[%s]:%v" $host $port }}{{ else }}{{ printf "%s:%v" $host $port }}{{ end }}
{{- end }}

{{/* DNS names the serving certificate must carry. */}}
{{- define "dplint.dnsNames" -}}
{{- $svc := include "dplint.fullname" . }}
{{- $ns := .Release.Namespace }}
{{- list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.%s" $svc $ns .Values.clusterDomain) | toJson }}
{{- end }}

{{/* A CEL list literal of strings: ['a', 'b']. The schema restricts the items to DNS names. */}}
{{- define "dplint.celList" -}}
{{- $quoted := list }}
{{- range . }}{{ $quoted = append $quoted (printf "'%s'" .) }}{{ end }}
{{- printf "[%s]" (join ", " $quoted) }}
{{- end }}

{{/*
Namespaces the checked objects live in. Installing the chart there would exclude them from the
webhook (the release namespace is always excluded), so that is refused.
*/}}
{{- define "dplint.checkedNamespaces" -}}
{{- $namespaces := list "kube-system" "calico-system" "tigera-operator" }}
{{- range .Values.webhook.match.configMaps }}{{ $namespaces = append $namespaces (first (splitList "/" .)) }}{{ end }}
{{- $namespaces | uniq | toJson }}
{{- end }}

{{/*
The audit's CronJob name, also the default of its ServiceAccount. Job names add 11 characters to
it and must stay within 63.
*/}}
{{- define "dplint.auditName" -}}
{{- printf "%s-audit" (include "dplint.fullname" .) | trunc 52 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of the audit's objects and pods. Their name differs from the webhook's: with the webhook's
selector labels the Service would send admission requests to the audit's pods.
*/}}
{{- define "dplint.auditLabels" -}}
helm.sh/chart: {{ include "dplint.chart" . }}
app.kubernetes.io/name: {{ printf "%s-audit" (include "dplint.name" .) | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: audit
app.kubernetes.io/part-of: dplint
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "dplint.auditServiceAccountName" -}}
{{- if .Values.audit.serviceAccount.create }}
{{- default (include "dplint.auditName" .) .Values.audit.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.audit.serviceAccount.name }}
{{- end }}
{{- end }}
