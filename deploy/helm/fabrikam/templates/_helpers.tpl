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

{{/* The image reference of one workload. ctx: dict "root" $ "override" map, the workload's own
     `image` block (roles.<role>.image or migration.image; may be absent). Its digest, else its
     tag, replaces the global image.digest/image.tag; with neither set the global image is used
     (digest, else tag, else the chart's appVersion). Registry and repository are always the
     global ones: every role runs the same image, only at different versions during a rollout. */}}
{{- define "fabrikam.image" -}}
{{- $img := .root.Values.image -}}
{{- $own := default dict .override -}}
{{- $repo := ternary (printf "%s/%s" $img.registry $img.repository) $img.repository (ne $img.registry "") -}}
{{- if $own.digest -}}
{{- printf "%s@%s" $repo (toString $own.digest) -}}
{{- else if $own.tag -}}
{{- printf "%s:%s" $repo (toString $own.tag) -}}
{{- else if $img.digest -}}
{{- printf "%s@%s" $repo (toString $img.digest) -}}
{{- else -}}
{{- printf "%s:%s" $repo (toString (default .root.Chart.AppVersion $img.tag)) -}}
{{- end -}}
{{- end }}

{{/* The migration Job's image: migration.image (digest, else tag) when set; otherwise the image
     every enabled role runs. Migrations must run with the newest code being deployed: its
     migrations include every earlier one, and an older image would leave the schema short of what
     the new pods need (running a newer image's migrations under older pods is the usual rolling-
     update contract: migrations stay backward compatible). Tags are commit hashes, so the chart
     cannot tell which of several role images is newest: the deploy pipeline sets migration.image.tag
     to the tag it rolls out, and when roles run different images without it the chart refuses. */}}
{{- define "fabrikam.migrationImage" -}}
{{- $own := default dict .Values.migration.image -}}
{{- if or $own.digest $own.tag -}}
{{- include "fabrikam.image" (dict "root" . "override" $own) -}}
{{- else -}}
{{- $images := list -}}
{{- range $role, $cfg := .Values.roles -}}
{{- if $cfg.enabled }}{{ $images = append $images (include "fabrikam.image" (dict "root" $ "override" $cfg.image)) }}{{ end -}}
{{- end -}}
{{- $images = $images | uniq | sortAlpha -}}
{{- if gt (len $images) 1 -}}
{{- fail (printf "roles run different images (%s): set migration.image.tag (or .digest) to the newest of them, the code whose migrations the schema needs" (join ", " $images)) -}}
{{- end -}}
{{- if $images }}{{ first $images }}{{ else }}{{ include "fabrikam.image" (dict "root" .) }}{{ end -}}
{{- end -}}
{{- end }}

{{/* Key Vault secret name for an env var (ctx: dict "root" $ "env" NAME). */}}
{{- define "fabrikam.secretName" -}}
{{- $az := .root.Values.azure -}}
{{- if and (eq .env "APPLICATIONINSIGHTS_CONNECTION_STRING") $az.applicationInsightsConnectionStringSecretName -}}
{{- $az.applicationInsightsConnectionStringSecretName -}}
{{- else if eq .env "AUTH_SIGNING_KEY" -}}
{{- required "auth.mode local needs auth.local.signingKeySecretName, the Key Vault secret holding the PEM signing key" .root.Values.auth.local.signingKeySecretName -}}
{{- else -}}
{{- required (printf "azure.keyVault.secrets.%s is not set" .env) (get $az.keyVault.secrets .env) -}}
{{- end -}}
{{- end }}

{{/* Env var names of the secrets a workload mounts: common ones, one per store, and the token
     signing key when auth.mode is local. ctx: dict "root" $ "stores" list. Output: a JSON list. */}}
{{- define "fabrikam.secretEnvs" -}}
{{- $names := list -}}
{{- range .root.Values.commonSecrets }}{{ $names = append $names . }}{{ end -}}
{{- if eq .root.Values.auth.mode "local" }}{{ $names = append $names "AUTH_SIGNING_KEY" }}{{ end -}}
{{- range .stores -}}
{{- $store := required (printf "stores.%s is not defined" .) (get $.root.Values.stores .) -}}
{{- $names = append $names $store.secret -}}
{{- end -}}
{{- $names | uniq | sortAlpha | toJson -}}
{{- end }}

{{/* A container's resources with ephemeral-storage added from .Values.ephemeralStorage where
     they do not set it. ctx: dict "root" $ "resources" map */}}
{{- define "fabrikam.resources" -}}
{{- $res := deepCopy (default dict .resources) -}}
{{- $eph := .root.Values.ephemeralStorage -}}
{{- $_ := set $res "requests" (merge (default dict $res.requests) (dict "ephemeral-storage" $eph.request)) -}}
{{- $_ = set $res "limits" (merge (default dict $res.limits) (dict "ephemeral-storage" $eph.limit)) -}}
{{- toYaml $res -}}
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
{{- /* The image sets it too (Dockerfile); said here as well, so that no command the chart runs
       can fall back to the checkout's local settings (manage.py's default). */ -}}
- name: DJANGO_SETTINGS_MODULE
  value: fabrikam.settings.production
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
{{- $security := include "fabrikam.securityEnv" . | fromJson }}
{{- $env := merge (deepCopy (default dict .env)) (deepCopy .root.Values.commonEnv) }}
{{- range $name := keys $env }}
{{- if has $name (include "fabrikam.securityEnvNames" $ | fromJsonArray) }}
{{- fail (printf "%s (in commonEnv or the %s env) is derived by the chart: set the auth, throttle or ingress values instead" $name $.role) }}
{{- end }}
{{- end }}
{{- $env = merge $env $security }}
{{- range $name := keys $env | sortAlpha }}
- name: {{ $name }}
  value: {{ get $env $name | toString | quote }}
{{- end }}
{{- end }}

{{/* Every variable fabrikam.securityEnv may set, whether or not it sets it for a given workload. */}}
{{- define "fabrikam.securityEnvNames" -}}
{{- list "AUTH_ENTRA_TENANT_ID" "AUTH_AUDIENCE" "AUTH_SERVICE_TOKEN_SCOPE" "AUTH_SIGNING_KEY"
      "AUTH_SIGNING_KEY_FILE" "ALLOWED_HOSTS" "TRUST_X_FORWARDED_PROTO" "TRUSTED_PROXY_COUNT"
      "THROTTLE_CLIENT_RATE" "THROTTLE_IP_RATE" "CSRF_TRUSTED_ORIGINS" | toJson -}}
{{- end }}

{{/* Security settings of one workload (fabrikam/settings/security.py), as a JSON map.
     Every workload: the token issuer and audience (entra), or the signing key file (local, through
     fabrikam.secretEnvs). Roles that call others: the scope of their service token (entra).
     HTTP roles: the hosts they answer (the ingress host when routed, their Service name when
     another role calls them), proxy trust only when routed, throttle rates.
     ctx: dict "root" $ "role" name "kind" http|worker|beat (absent for the migration Job) "calls" list */}}
{{- define "fabrikam.securityEnv" -}}
{{- $v := .root.Values }}
{{- $env := dict }}
{{- if eq $v.auth.mode "entra" }}
{{- if not $v.azure.tenantId }}
{{- fail "auth.mode entra needs azure.tenantId, the tenant that issues the tokens (Bicep output tenantId); or set auth.mode local" }}
{{- end }}
{{- if not $v.azure.api.clientId }}
{{- fail "auth.mode entra needs azure.api.clientId, the audience of the API's tokens (Bicep output apiClientId)" }}
{{- end }}
{{- $_ := set $env "AUTH_ENTRA_TENANT_ID" $v.azure.tenantId }}
{{- $_ = set $env "AUTH_AUDIENCE" (compact (list $v.azure.api.clientId $v.azure.api.applicationIdUri) | join ",") }}
{{- if .calls }}
{{- if not $v.azure.api.serviceTokenScope }}
{{- fail (printf "roles.%s calls other services: auth.mode entra needs azure.api.serviceTokenScope (Bicep output apiServiceTokenScope)" .role) }}
{{- end }}
{{- $_ = set $env "AUTH_SERVICE_TOKEN_SCOPE" $v.azure.api.serviceTokenScope }}
{{- end }}
{{- else if ne $v.auth.mode "local" }}
{{- fail (printf "auth.mode must be entra or local, not %v" $v.auth.mode) }}
{{- end }}
{{- if eq (default "" .kind) "http" }}
{{- $routed := has .role (include "fabrikam.routedRoles" .root | fromJsonArray) }}
{{- $hosts := list }}
{{- if $routed }}{{ $hosts = append $hosts $v.ingress.host }}{{ end }}
{{- range $other, $cfg := $v.roles }}
{{- if and $cfg.enabled (has $.role (default list $cfg.calls)) }}
{{- $hosts = append $hosts (include "fabrikam.name" (dict "root" $.root "role" $.role)) }}
{{- end }}
{{- end }}
{{- $hosts = concat $hosts (default list (get $v.roles .role).extraAllowedHosts) | uniq }}
{{- with $hosts }}{{ $_ := set $env "ALLOWED_HOSTS" (join "," .) }}{{ end }}
{{- $_ := set $env "TRUST_X_FORWARDED_PROTO" (ternary "true" "false" $routed) }}
{{- $_ = set $env "TRUSTED_PROXY_COUNT" (ternary (toString $v.ingress.trustedProxyCount) "0" $routed) }}
{{- if $routed }}
{{- $_ = set $env "CSRF_TRUSTED_ORIGINS" (printf "https://%s" $v.ingress.host) }}
{{- end }}
{{- $_ = set $env "THROTTLE_CLIENT_RATE" $v.throttle.clientRate }}
{{- $_ = set $env "THROTTLE_IP_RATE" $v.throttle.ipRate }}
{{- end }}
{{- toJson $env }}
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

{{/* The roles the ingress (or gateway) routes to, as a JSON list; empty when it is disabled. */}}
{{- define "fabrikam.routedRoles" -}}
{{- $roles := list }}
{{- if .Values.ingress.enabled }}
{{- range (include "fabrikam.publicRoutes" . | fromJsonArray) }}{{ $roles = append $roles .role }}{{ end }}
{{- end }}
{{- $roles | uniq | toJson }}
{{- end }}
