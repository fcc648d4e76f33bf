{{/* Resource names are <prefix>-<role>; the prefix is the release name unless overridden. */}}
{{- define "fabrikam.prefix" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- end }}

{{/* ctx: dict "root" $ "role" name */}}
{{- define "fabrikam.name" -}}
{{- printf "%s-%s" (include "fabrikam.prefix" .root) .role -}}
{{- end }}

{{- define "fabrikam.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .role }}
{{- end }}

{{- define "fabrikam.labels" -}}
{{ include "fabrikam.selectorLabels" . }}
app.kubernetes.io/part-of: fabrikam
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{- end }}

{{- define "fabrikam.image" -}}
{{- $img := .Values.image -}}
{{- $repo := ternary (printf "%s/%s" $img.registry $img.repository) $img.repository (ne $img.registry "") -}}
{{- if $img.digest -}}
{{- printf "%s@%s" $repo $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (default .Chart.AppVersion $img.tag) -}}
{{- end -}}
{{- end }}

{{/* Key Vault secret name for an env var (ctx: dict "root" $ "env" NAME). */}}
{{- define "fabrikam.secretName" -}}
{{- $az := .root.Values.azure -}}
{{- if and (eq .env "APPLICATIONINSIGHTS_CONNECTION_STRING") $az.applicationInsightsConnectionStringSecretName -}}
{{- $az.applicationInsightsConnectionStringSecretName -}}
{{- else -}}
{{- required (printf "azure.keyVault.secrets.%s is not set" .env) (get $az.keyVault.secrets .env) -}}
{{- end -}}
{{- end }}

{{/* Env var names of the secrets a workload mounts: common ones plus one per store.
     ctx: dict "root" $ "stores" list. Output: a JSON list. */}}
{{- define "fabrikam.secretEnvs" -}}
{{- $names := list -}}
{{- range .root.Values.commonSecrets }}{{ $names = append $names . }}{{ end -}}
{{- range .stores -}}
{{- $store := required (printf "stores.%s is not defined" .) (get $.root.Values.stores .) -}}
{{- $names = append $names $store.secret -}}
{{- end -}}
{{- $names | uniq | sortAlpha | toJson -}}
{{- end }}

{{- define "fabrikam.secretsMountPath" -}}/mnt/secrets{{- end }}

{{/* Pod-level security: non-root, fixed UID/GID matching the Dockerfile, RuntimeDefault seccomp. */}}
{{- define "fabrikam.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "fabrikam.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
privileged: false
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Environment common to Deployments and the migration Job.
     ctx: dict "root" $ "role" name "fabrikamRole" value "stores" list "env" map "calls" list */}}
{{- define "fabrikam.env" -}}
- name: FABRIKAM_ROLE
  value: {{ .fabrikamRole | quote }}
- name: PORT
  value: {{ .root.Values.service.port | quote }}
{{- range (include "fabrikam.secretEnvs" . | fromJsonArray) }}
- name: {{ . }}_FILE
  value: {{ printf "%s/%s" (include "fabrikam.secretsMountPath" $) . | quote }}
{{- end }}
{{- range .calls }}
- name: SERVICE_URL_{{ upper . }}
  value: {{ printf "http://%s:%v" (include "fabrikam.name" (dict "root" $.root "role" .)) $.root.Values.service.port | quote }}
{{- end }}
{{- $env := merge (deepCopy (default dict .env)) (deepCopy .root.Values.commonEnv) }}
{{- range $name := keys $env | sortAlpha }}
- name: {{ $name }}
  value: {{ get $env $name | toString | quote }}
{{- end }}
{{- end }}

{{- define "fabrikam.envFrom" -}}
- configMapRef:
    name: {{ include "fabrikam.name" (dict "root" .root "role" "azure") }}
{{- end }}

{{- define "fabrikam.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: secrets
  mountPath: {{ include "fabrikam.secretsMountPath" . }}
  readOnly: true
{{- end }}

{{/* ctx: dict "root" $ "role" name */}}
{{- define "fabrikam.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 256Mi
- name: secrets
  csi:
    driver: secrets-store.csi.k8s.io
    readOnly: true
    volumeAttributes:
      secretProviderClass: {{ include "fabrikam.name" . }}
{{- end }}

{{/* ServiceAccount body shared by roles and the migration hook. ctx: dict "root" $ "role" name */}}
{{- define "fabrikam.serviceAccountIdentity" -}}
azure.workload.identity/client-id: {{ get .root.Values.azure.workloadIdentity.clientIds .role | default "" | quote }}
{{- with .root.Values.azure.tenantId }}
azure.workload.identity/tenant-id: {{ . | quote }}
{{- end }}
{{- end }}

{{/* The public routes, as a JSON list of {path, role}. The one list Ingress and HTTPRoute share:
     only ingestion and delivery (and admin when exposeAdmin) are ever routed. */}}
{{- define "fabrikam.publicRoutes" -}}
{{- $routes := list
      (dict "path" "/api/deliveryrequests" "role" "ingestion")
      (dict "path" "/api/deliveries" "role" "delivery")
      (dict "path" "/track" "role" "delivery")
      (dict "path" "/static" "role" "delivery") }}
{{- if .Values.ingress.exposeAdmin }}
{{- $routes = append $routes (dict "path" "/admin" "role" "admin") }}
{{- end }}
{{- range $routes }}
{{- $cfg := get $.Values.roles .role }}
{{- if not (and $cfg $cfg.enabled $cfg.public) }}
{{- fail (printf "the ingress routes %s to %s, which is not an enabled public role" .path .role) }}
{{- end }}
{{- end }}
{{- toJson $routes }}
{{- end }}
