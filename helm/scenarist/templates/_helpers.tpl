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

{{/* Whether a service is enabled; dict: root, name. */}}
{{- define "scenarist.enabled" -}}
{{- if (index .root.Values.services .name | default dict).enabled -}}true{{- end -}}
{{- end -}}

{{/* host:port of a service's public gRPC API (its own grpcPort override wins); dict: root, name. */}}
{{- define "scenarist.grpcTarget" -}}
{{- $own := index .root.Values.services .name | default dict -}}
{{- printf "%s:%v" (include "scenarist.serviceName" .) ($own.grpcPort | default .root.Values.global.grpcPort) -}}
{{- end -}}

{{/* The gateway's internal port (ExecuteModule for executors and the trigger, ADR 0005). */}}
{{- define "scenarist.gatewayInternalPort" -}}
{{- .Values.services.connector_gateway.internalPort | default 50055 -}}
{{- end -}}

{{/* The headless Service of the gateway's internal port: it resolves to every ready gateway pod,
so the callers' gRPC channels connect to each and spread calls round robin (through a ClusterIP
each caller would keep one connection to one pod, and new replicas would get no calls). */}}
{{- define "scenarist.gatewayInternalService" -}}
{{- printf "%s-internal" (include "scenarist.serviceName" (dict "root" . "name" "connector_gateway")) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* SCENARIST_GATEWAY_TARGET: gRPC's dns resolver on the headless Service's fully qualified name. */}}
{{- define "scenarist.gatewayTarget" -}}
{{- printf "dns:///%s.%s.svc.%s:%v" (include "scenarist.gatewayInternalService" .) .Release.Namespace (.Values.global.clusterDomain | default "cluster.local") (include "scenarist.gatewayInternalPort" .) -}}
{{- end -}}

{{/* Services that call ExecuteModule on the gateway's internal port. */}}
{{- define "scenarist.gatewayCallers" -}}
executor,trigger
{{- end -}}

{{/* One env entry from a Secret; dict: name, secret, key, optional. */}}
{{- define "scenarist.secretEnvVar" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .secret | quote }}
      key: {{ .key | quote }}
      {{- if .optional }}
      optional: true
      {{- end }}
{{- end -}}

{{/* Env names that carry keys: only ever from a Secret (configmap.yaml refuses them in env). */}}
{{- define "scenarist.keyNames" -}}
SCENARIST_INTERNAL_SECRET,SCENARIST_SECRETS_KEY,SCENARIST_SECRETS_PREVIOUS_KEYS,SCENARIST_WEBHOOK_SECRET_KEY,SCENARIST_STUDIO__SECRET_KEY
{{- end -}}

{{/*
The keys a service needs in distributed mode, all from existing Secrets (values `secrets.*`);
dict: root, name. Never a literal: rotating a key is a Secret update plus a rollout restart.
*/}}
{{- define "scenarist.keyEnv" -}}
{{- $s := .root.Values.secrets -}}
{{- $callers := splitList "," (include "scenarist.gatewayCallers" .root) -}}
{{- $gateway := include "scenarist.enabled" (dict "root" .root "name" "connector_gateway") -}}
{{- if or (eq .name "connector_gateway") (and $gateway (has .name $callers)) }}
{{- $secret := required "secrets.internal.existingSecret is required" $s.internal.existingSecret }}
{{ include "scenarist.secretEnvVar" (dict "name" "SCENARIST_INTERNAL_SECRET" "secret" $secret "key" $s.internal.key) }}
{{- end }}
{{- if eq .name "connector_gateway" }}
{{- $k := $s.connectionKeys }}
{{- $secret := required "secrets.connectionKeys.existingSecret is required" $k.existingSecret }}
{{ include "scenarist.secretEnvVar" (dict "name" "SCENARIST_SECRETS_KEY" "secret" $secret "key" $k.key) }}
{{- /* Optional entries: a Secret holding only the key starts with id k1 and no retired keys. */}}
{{- with $k.keyIdKey }}
{{ include "scenarist.secretEnvVar" (dict "name" "SCENARIST_SECRETS_KEY_ID" "secret" $secret "key" . "optional" true) }}
{{- end }}
{{- with $k.previousKeysKey }}
{{ include "scenarist.secretEnvVar" (dict "name" "SCENARIST_SECRETS_PREVIOUS_KEYS" "secret" $secret "key" . "optional" true) }}
{{- end }}
{{- else if eq .name "trigger" }}
{{- $secret := required "secrets.webhookKey.existingSecret is required" $s.webhookKey.existingSecret }}
{{ include "scenarist.secretEnvVar" (dict "name" "SCENARIST_WEBHOOK_SECRET_KEY" "secret" $secret "key" $s.webhookKey.key) }}
{{- else if eq .name "studio" }}
{{- $secret := required "secrets.studioKey.existingSecret is required" $s.studioKey.existingSecret }}
{{ include "scenarist.secretEnvVar" (dict "name" "SCENARIST_STUDIO__SECRET_KEY" "secret" $secret "key" $s.studioKey.key) }}
{{- end }}
{{- end -}}
