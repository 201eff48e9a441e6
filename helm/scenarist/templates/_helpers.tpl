{{/*
Naming, labels and the merge of global defaults with per-service overrides.
Every per-service template ranges over `scenarist.services`, which yields (name, merged values)
pairs for the enabled services, so a value set under services.<name> wins over global.
*/}}

{{- define "scenarist.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Kubernetes name of one service: underscores are not allowed in DNS names. */}}
{{- define "scenarist.component" -}}
{{- . | replace "_" "-" -}}
{{- end -}}

{{- define "scenarist.serviceName" -}}
{{- printf "%s-%s" (include "scenarist.fullname" .root) (include "scenarist.component" .name) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "scenarist.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: scenarist
{{- end -}}

{{/* Selector labels of one service; dict: root, name. */}}
{{- define "scenarist.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ include "scenarist.component" .name }}
{{- end -}}

{{- define "scenarist.componentLabels" -}}
{{ include "scenarist.labels" .root }}
app.kubernetes.io/component: {{ include "scenarist.component" .name }}
{{- end -}}

{{/*
The effective values of one service: global defaults deep-merged under its override block.
Returns YAML; use `include "scenarist.values" (dict "root" $ "name" $name) | fromYaml`.
*/}}
{{- define "scenarist.values" -}}
{{- $g := omit .root.Values.global "image" "imagePullSecrets" "kafka" "postgres" "redis" "otel" "env" -}}
{{- $own := index .root.Values.services .name | default dict -}}
{{- $merged := mustMergeOverwrite (deepCopy $g) (deepCopy $own) -}}
{{- $_ := set $merged "env" (merge (deepCopy ($own.env | default dict)) (deepCopy (.root.Values.global.env | default dict))) -}}
{{- toYaml $merged -}}
{{- end -}}

{{/* Names of the services to render, in a stable order. */}}
{{- define "scenarist.enabledServices" -}}
{{- $out := list -}}
{{- range $name := list "orchestrator" "executor" "trigger" "log" "connector_gateway" "studio" -}}
{{- $own := index $.Values.services $name | default dict -}}
{{- if $own.enabled -}}
{{- $out = append $out $name -}}
{{- end -}}
{{- end -}}
{{- join "," $out -}}
{{- end -}}

{{- define "scenarist.image" -}}
{{- $img := .root.Values.global.image -}}
{{- printf "%s/scenarist-%s:%s" $img.registry (include "scenarist.component" .name) (default .root.Chart.AppVersion $img.tag) -}}
{{- end -}}

{{- define "scenarist.serviceAccountName" -}}
{{- if .root.Values.serviceAccount.create -}}
{{- include "scenarist.serviceName" . -}}
{{- else -}}
default
{{- end -}}
{{- end -}}

{{/* Executor replica ceiling: never more replicas than task partitions. */}}
{{- define "scenarist.executorCeiling" -}}
{{- $partitions := int .root.Values.global.kafka.taskPartitions -}}
{{- $asked := int (default $partitions .asked) -}}
{{- min $asked $partitions -}}
{{- end -}}

{{/* Whether a service's replica count is managed by an autoscaler (HPA or KEDA). */}}
{{- define "scenarist.autoscaled" -}}
{{- $v := .values -}}
{{- if or (and $v.autoscaling $v.autoscaling.enabled) (and $v.keda $v.keda.enabled) -}}true{{- end -}}
{{- end -}}

{{/* Environment shared by the services and the hook jobs (which run before any ConfigMap). */}}
{{- define "scenarist.connectionEnv" -}}
- name: SCENARIST_POSTGRES_DSN
  valueFrom:
    secretKeyRef:
      name: {{ .Values.global.postgres.existingSecret }}
      key: {{ .Values.global.postgres.dsnKey }}
- name: SCENARIST_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.global.redis.existingSecret }}
      key: {{ .Values.global.redis.urlKey }}
- name: SCENARIST_KAFKA_BOOTSTRAP
  value: {{ .Values.global.kafka.bootstrap | quote }}
- name: SCENARIST_KAFKA_REPLICATION
  value: {{ .Values.global.kafka.replicationFactor | quote }}
- name: SCENARIST_MODE
  value: distributed
{{- end -}}

{{- define "scenarist.podSecurity" -}}
securityContext:
  {{- toYaml .podSecurityContext | nindent 2 }}
{{- end -}}
