{{/*
The chart name, overridable with nameOverride. Kubernetes names stop at 63
characters, so every name is cut there.
*/}}
{{- define "rollguard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every resource name: the release name, followed by the chart
name unless the release name already contains it (63 characters at most).
*/}}
{{- define "rollguard.fullname" -}}
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

{{/*
The chart label value: name and version, with "+" (invalid in a label) made "_".
*/}}
{{- define "rollguard.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The labels on every object: the selector labels plus the ones that change
between versions (which is why they never appear in a selector).
*/}}
{{- define "rollguard.labels" -}}
helm.sh/chart: {{ include "rollguard.chart" . }}
{{ include "rollguard.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: rollguard
{{- end }}

{{/*
The labels a selector matches on. A selector is immutable, so only the two
labels that never change for a release belong here.
*/}}
{{- define "rollguard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "rollguard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The ServiceAccount the operator runs as.
*/}}
{{- define "rollguard.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "rollguard.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The operator image reference: repository@digest when a digest pins it, else
repository:tag (the chart's appVersion when the tag is empty).
*/}}
{{- define "rollguard.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/*
The namespaces the operator watches when it is not cluster-wide.
*/}}
{{- define "rollguard.watchNamespaces" -}}
{{- if .Values.watchNamespaces }}
{{- toJson .Values.watchNamespaces }}
{{- else }}
{{- toJson (list .Release.Namespace) }}
{{- end }}
{{- end }}

{{/*
What the operator may do in a namespace it watches: the rules of
manifests/rbac/role.yaml, copied into files/ by `make sync-rbac` (a test fails
on drift), so the chart and the plain manifests grant the same.
*/}}
{{- define "rollguard.namespacedRules" -}}
{{- (.Files.Get "files/operator-role.yaml" | fromYaml).rules | toYaml }}
{{- end }}

{{/*
The selector labels of the test pod. Its name label differs from the
operator's so that no operator selector picks it up.
*/}}
{{- define "rollguard.testSelectorLabels" -}}
app.kubernetes.io/name: {{ include "rollguard.name" . }}-test
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
