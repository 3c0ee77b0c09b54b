{{/*
The chart name, overridable with nameOverride. Kubernetes names stop at 63
characters, so every name is cut there.
*/}}
{{- define "claims-api.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every resource name: the release name, followed by the chart
name unless the release name already contains it (63 characters at most).
Hook and policy names add a suffix, so they cut the prefix shorter themselves.
*/}}
{{- define "claims-api.fullname" -}}
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
A child name: the full name cut so that "-<suffix>" still fits in 63 characters.
Call with (list $ "suffix").
*/}}
{{- define "claims-api.childName" -}}
{{- $root := index . 0 }}
{{- $suffix := index . 1 }}
{{- printf "%s-%s" (include "claims-api.fullname" $root | trunc (int (sub 62 (len $suffix))) | trimSuffix "-") $suffix }}
{{- end }}

{{/*
The chart label value: name and version, with "+" (invalid in a label) made "_".
*/}}
{{- define "claims-api.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The labels on every object the chart renders for the API itself: the selector
labels plus the ones that change between versions (never in a selector).
*/}}
{{- define "claims-api.labels" -}}
helm.sh/chart: {{ include "claims-api.chart" . }}
{{ include "claims-api.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: {{ include "claims-api.name" . }}
{{- end }}

{{/*
The labels a selector matches on. A selector is immutable, so only the two
labels that never change for a release belong here.
*/}}
{{- define "claims-api.selectorLabels" -}}
app.kubernetes.io/name: {{ include "claims-api.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Labels of the API pods. The rollguard operator rewrites app.kubernetes.io/name
on the pods it creates, so the Service, PDB and NetworkPolicy find API pods by
instance and component instead (see "claims-api.apiPodSelector").
*/}}
{{- define "claims-api.podLabels" -}}
{{ include "claims-api.selectorLabels" . }}
app.kubernetes.io/component: api
app.kubernetes.io/part-of: {{ include "claims-api.name" . }}
{{- with .Values.podLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Selects the API pods in both modes (plain Deployment and operator-managed).
*/}}
{{- define "claims-api.apiPodSelector" -}}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: api
{{- end }}

{{/*
Selects this release's load-test pods: the Locust pods the operator starts
carry the label of the ApiRelease that owns their LoadTest, so another
release's load test in the same namespace is not let in.
*/}}
{{- define "claims-api.loadTestPodSelector" -}}
{{- toYaml (merge (dict "rollguard.dev/release" (include "claims-api.fullname" .)) .Values.networkPolicy.loadTestPodSelector) }}
{{- end }}

{{/*
Labels of the chart's other pods (migration hooks, the wait Job, the test).
Their name label differs from the API's so that no API selector ever picks
them up. Call with (list $ "component").
*/}}
{{- define "claims-api.componentLabels" -}}
{{- $root := index . 0 }}
{{- $component := index . 1 }}
helm.sh/chart: {{ include "claims-api.chart" $root }}
{{ include "claims-api.componentSelectorLabels" . }}
app.kubernetes.io/version: {{ $root.Values.image.tag | default $root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
app.kubernetes.io/part-of: {{ include "claims-api.name" $root }}
app.kubernetes.io/component: {{ $component }}
{{- end }}

{{/*
The selector labels of one of the chart's other pods. Call with (list $ "component").
*/}}
{{- define "claims-api.componentSelectorLabels" -}}
{{- $root := index . 0 }}
app.kubernetes.io/name: {{ printf "%s-%s" (include "claims-api.name" $root) (index . 1) | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
{{- end }}

{{/*
The ServiceAccount the API runs as.
*/}}
{{- define "claims-api.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "claims-api.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
An image reference: repository@digest when a digest pins it, else
repository:tag (the chart's appVersion when the tag is empty).
Call with (list $ .Values.image).
*/}}
{{- define "claims-api.imageRef" -}}
{{- $root := index . 0 }}
{{- $image := index . 1 }}
{{- if $image.digest }}
{{- printf "%s@%s" $image.repository $image.digest }}
{{- else }}
{{- printf "%s:%s" $image.repository ($image.tag | default $root.Chart.AppVersion) }}
{{- end }}
{{- end }}

{{- define "claims-api.image" -}}
{{- include "claims-api.imageRef" (list . .Values.image) }}
{{- end }}

{{- define "claims-api.operatorImage" -}}
{{- include "claims-api.imageRef" (list . .Values.operator.image) }}
{{- end }}

{{- define "claims-api.loadTestImage" -}}
{{- include "claims-api.imageRef" (list . .Values.loadTest.image) }}
{{- end }}

{{/*
The API's non-secret settings, the env of its pods and migration Jobs.
*/}}
{{- define "claims-api.configData" -}}
DJANGO_ENV: {{ .Values.config.environment | quote }}
DJANGO_ALLOWED_HOSTS: {{ .Values.config.allowedHosts | quote }}
DJANGO_DEBUG: {{ .Values.config.debug | ternary "true" "false" | quote }}
LOG_LEVEL: {{ .Values.config.logLevel | quote }}
DJANGO_SECURE_SSL_REDIRECT: {{ .Values.config.sslRedirect | ternary "true" "false" | quote }}
API_TRUSTED_PROXY_HOPS: {{ .Values.config.trustedProxyHops | quote }}
{{- range $name, $value := .Values.config.extraEnv }}
{{ $name }}: {{ $value | quote }}
{{- end }}
{{- end }}

{{/*
The secret settings, read from the existing Secrets the values name. The
migration Jobs run the pod template's image and env, so the owner's URL is in
it; the service reads it only in its migration commands (config/databases.py).
*/}}
{{- define "claims-api.secretEnv" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.databaseUrl.name }}
      key: {{ .Values.secrets.databaseUrl.key }}
- name: MIGRATION_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.migrationDatabaseUrl.name }}
      key: {{ .Values.secrets.migrationDatabaseUrl.key }}
- name: DJANGO_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.djangoSecretKey.name }}
      key: {{ .Values.secrets.djangoSecretKey.key }}
{{- end }}

{{/*
The metrics settings of the API container. API_REVISION labels every series:
with the operator it is the pod's rollguard.dev/revision label (the hash the
ApiRelease's status calls currentRevision and stableRevision, so a canary's
series differ from the stable pods' even for the same image); a plain
Deployment uses the image digest or tag. A value that changes at every
`helm upgrade` (the Helm revision) would roll the pods each time.
*/}}
{{- define "claims-api.metricsEnv" -}}
- name: METRICS_PORT
  value: {{ .Values.metrics.enabled | ternary .Values.metrics.port 0 | quote }}
- name: API_REVISION
{{- if .Values.operator.enabled }}
  valueFrom:
    fieldRef:
      fieldPath: metadata.labels['rollguard.dev/revision']
{{- else }}
  value: {{ .Values.image.digest | default (.Values.image.tag | default .Chart.AppVersion) | quote }}
{{- end }}
{{- end }}

{{/*
The scratch volume every container gets, since root filesystems are read-only.
*/}}
{{- define "claims-api.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end }}

{{/*
The API pod spec, shared by the ApiRelease's template and the plain Deployment.
*/}}
{{- define "claims-api.podSpec" -}}
serviceAccountName: {{ include "claims-api.serviceAccountName" . }}
automountServiceAccountToken: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
containers:
  - name: api
    image: {{ include "claims-api.image" . }}
    imagePullPolicy: {{ .Values.image.pullPolicy }}
    ports:
      - name: http
        containerPort: 8000
        protocol: TCP
      {{- if .Values.metrics.enabled }}
      - name: metrics
        containerPort: {{ .Values.metrics.port }}
        protocol: TCP
      {{- end }}
    # The settings are part of the pod template, not a ConfigMap the revisions
    # would share: a canary's or a rolled-back release's settings never reach a
    # stable pod that starts later, and a change of them is a new revision.
    env:
      {{- range $name, $value := include "claims-api.configData" . | fromYaml }}
      - name: {{ $name }}
        value: {{ $value | quote }}
      {{- end }}
      {{- include "claims-api.secretEnv" . | nindent 6 }}
      {{- include "claims-api.metricsEnv" . | nindent 6 }}
    # Startup gives a slow boot a minute before liveness counts; liveness
    # restarts only a wedged process; readiness also fails while the database
    # is unreachable or a needed migration is missing, taking the pod out of the Service.
    startupProbe:
      httpGet:
        path: /health/startup
        port: http
      periodSeconds: 2
      timeoutSeconds: 2
      failureThreshold: 30
    livenessProbe:
      httpGet:
        path: /health/live
        port: http
      periodSeconds: 10
      timeoutSeconds: 2
      failureThreshold: 3
    readinessProbe:
      httpGet:
        path: /health/ready
        port: http
      periodSeconds: 5
      timeoutSeconds: 3
      failureThreshold: 2
    resources:
      {{- toYaml .Values.resources | nindent 6 }}
    securityContext:
      {{- toYaml .Values.securityContext | nindent 6 }}
    volumeMounts:
      - name: tmp
        mountPath: /tmp
volumes:
  {{- include "claims-api.tmpVolume" . | nindent 2 }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
Egress to the cluster DNS, which every pod of the chart needs.
*/}}
{{- define "claims-api.dnsEgress" -}}
- to:
    - namespaceSelector:
        matchLabels:
          {{- toYaml .Values.networkPolicy.dns.namespaceSelector | nindent 10 }}
      podSelector:
        matchLabels:
          {{- toYaml .Values.networkPolicy.dns.podSelector | nindent 10 }}
  ports:
    - protocol: UDP
      port: 53
    - protocol: TCP
      port: 53
{{- end }}

{{/*
Egress to the database: its pods, its CIDRs, or (neither set) any address on
the database port only.
*/}}
{{- define "claims-api.databaseEgress" -}}
{{- $db := .Values.networkPolicy.database }}
- ports:
    - protocol: TCP
      port: {{ $db.port }}
  {{- if $db.podSelector }}
  to:
    - podSelector:
        matchLabels:
          {{- toYaml $db.podSelector | nindent 10 }}
      {{- with $db.namespaceSelector }}
      namespaceSelector:
        matchLabels:
          {{- toYaml . | nindent 10 }}
      {{- end }}
  {{- else if $db.cidrs }}
  to:
    {{- range $db.cidrs }}
    - ipBlock:
        cidr: {{ . }}
    {{- end }}
  {{- end }}
{{- end }}
