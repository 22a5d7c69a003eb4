{{/*
Names. Every object name comes from one of these helpers. A fullname that would
make an invalid name fails the render rather than being cut short.
*/}}
{{- define "jupyterhub-bot.fullname" -}}
{{- $name := .Values.fullnameOverride | default .Release.Name -}}
{{- if gt (len $name) 53 -}}
{{- fail (printf "fullname %q is %d characters long; at most 53 are allowed (set fullnameOverride or use a shorter release name)" $name (len $name)) -}}
{{- end -}}
{{- if not (regexMatch "^[a-z]([-a-z0-9]*[a-z0-9])?$" $name) -}}
{{- fail (printf "fullname %q must start with a letter and contain only lowercase letters, digits and '-' (set fullnameOverride)" $name) -}}
{{- end -}}
{{- $name -}}
{{- end }}

{{- define "jupyterhub-bot.policies.fullname" -}}
{{- if .Values.policies.existingConfigMap -}}
{{- .Values.policies.existingConfigMap -}}
{{- else -}}
{{- include "jupyterhub-bot.fullname" . }}-policies
{{- end -}}
{{- end }}

{{- define "jupyterhub-bot.data.fullname" -}}
{{- if .Values.persistence.existingClaim -}}
{{- .Values.persistence.existingClaim -}}
{{- else -}}
{{- include "jupyterhub-bot.fullname" . }}-data
{{- end -}}
{{- end }}

{{- define "jupyterhub-bot.serviceAccountName" -}}
{{- .Values.serviceAccount.name | default (include "jupyterhub-bot.fullname" .) -}}
{{- end }}

{{/*
Cluster-scoped objects carry the release namespace in their name, so the same
release name in two namespaces never fights over one ClusterRole.
*/}}
{{- define "jupyterhub-bot.clusterScoped.fullname" -}}
{{- printf "%s-%s" .Release.Namespace (include "jupyterhub-bot.fullname" .) -}}
{{- end }}

{{/* The bot's own cluster-wide rights (ClusterRole and ClusterRoleBinding). */}}
{{- define "jupyterhub-bot.botRole.fullname" -}}
{{- include "jupyterhub-bot.clusterScoped.fullname" . -}}
{{- end }}

{{/* What the bot may do inside each environment namespace, bound there by the bot itself. */}}
{{- define "jupyterhub-bot.environmentRole.fullname" -}}
{{- include "jupyterhub-bot.clusterScoped.fullname" . }}-environment
{{- end }}

{{- define "jupyterhub-bot.admissionPolicy.fullname" -}}
{{- include "jupyterhub-bot.clusterScoped.fullname" . }}-own-namespaces
{{- end }}

{{/* Roles in other namespaces (default, TLS sources) carry the release namespace too. */}}
{{- define "jupyterhub-bot.apiServerEndpoints.fullname" -}}
{{- include "jupyterhub-bot.clusterScoped.fullname" . }}-apiserver-endpoints
{{- end }}

{{- define "jupyterhub-bot.tlsSource.fullname" -}}
{{- include "jupyterhub-bot.clusterScoped.fullname" . }}-tls-source
{{- end }}

{{/* The bot's identity as the API server sees it. */}}
{{- define "jupyterhub-bot.userName" -}}
{{- printf "system:serviceaccount:%s:%s" .Release.Namespace (include "jupyterhub-bot.serviceAccountName" .) -}}
{{- end }}

{{/*
Which environments are this install's: installationId, or
"<release namespace>.<fullname>". Always a valid label value: at most 63
characters, alphanumeric at both ends; a longer one is cut and given a hash
of the whole, so two installs never share an id.
*/}}
{{- define "jupyterhub-bot.installationId" -}}
{{- $id := .Values.installationId | default (printf "%s.%s" .Release.Namespace (include "jupyterhub-bot.fullname" .)) -}}
{{- if gt (len $id) 63 -}}
{{- $id = printf "%s-%s" (regexReplaceAll "[^A-Za-z0-9]+$" (trunc 54 $id) "") (sha256sum $id | trunc 8) -}}
{{- end -}}
{{- $id -}}
{{- end }}

{{/*
The label the bot puts on every namespace it creates, with the installation id
as its value (INSTALLATION_ID). The admission policy trusts only namespaces
carrying this install's id.
*/}}
{{- define "jupyterhub-bot.installationLabel" -}}jupyterhub-bot.io/installation{{- end }}

{{/* Pod Security admission, which every environment namespace must enforce at "restricted". */}}
{{- define "jupyterhub-bot.podSecurityLabel" -}}pod-security.kubernetes.io/enforce{{- end }}
{{- define "jupyterhub-bot.podSecurityVersionLabel" -}}pod-security.kubernetes.io/enforce-version{{- end }}

{{/* Where things are mounted in the bot container. */}}
{{- define "jupyterhub-bot.port" -}}3000{{- end }}
{{- define "jupyterhub-bot.policiesDir" -}}/etc/jupyterhub-bot/policies{{- end }}
{{- define "jupyterhub-bot.kubeconfigDir" -}}/etc/jupyterhub-bot/kubeconfig{{- end }}
{{- define "jupyterhub-bot.dataDir" -}}/var/lib/jupyterhub-bot{{- end }}

{{/*
Labels, in layers. Selector labels identify the bot of one release and never
change across upgrades (no chart version in them). Common labels add the
chart's metadata and the caller's extra labels; ours win on a clash.
Component label helpers take (dict "root" $ "component" "bot").
*/}}
{{- define "jupyterhub-bot.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "jupyterhub-bot.labels" -}}
{{- $ours := dict
  "app.kubernetes.io/name" .root.Chart.Name
  "app.kubernetes.io/instance" .root.Release.Name
  "app.kubernetes.io/version" .root.Chart.AppVersion
  "app.kubernetes.io/managed-by" .root.Release.Service
  "app.kubernetes.io/part-of" "jupyterhub-bot"
  "app.kubernetes.io/component" .component
  "helm.sh/chart" (printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_")
-}}
{{- toYaml (merge $ours (deepCopy (.root.Values.labels | default dict))) -}}
{{- end }}

{{/*
Settings that only make sense together, checked once, before anything is
rendered (included from the Deployment).
*/}}
{{- define "jupyterhub-bot.checks" -}}
{{- if not .Values.image.repository -}}
{{- fail "image.repository is required: no image is published; build one from the repository's Dockerfile, push it to a registry your cluster pulls from, and name it here (see the chart README, The image)" -}}
{{- end -}}
{{- if not .Values.slack.existingSecret -}}
{{- fail "slack.existingSecret is required: create a Secret with the bot token and the signing secret (see the chart README) and name it here" -}}
{{- end -}}
{{- if and (eq .Values.slack.mode "socket") .Values.ingress.enabled -}}
{{- fail "ingress.enabled: in socket mode the bot connects out to Slack and needs no Ingress; turn it off (the Service stays for /healthz, /readyz and /metrics)" -}}
{{- end -}}
{{- if not .Values.slack.adminChannelId -}}
{{- fail "slack.adminChannelId is required: the channel ID (C…) for approval requests and admin alerts" -}}
{{- end -}}
{{- $files := .Values.policies.files | default dict -}}
{{- if and .Values.policies.existingConfigMap $files -}}
{{- fail "set policies.existingConfigMap or policies.files, not both" -}}
{{- end -}}
{{- if not (or .Values.policies.existingConfigMap $files) -}}
{{- fail "policies are required: set policies.files (file name -> YAML text) or policies.existingConfigMap" -}}
{{- end -}}
{{- if and (gt (int .Values.replicas) 1) (not .Values.database.existingSecret) -}}
{{- fail (printf "replicas: %d needs a database they share (database.existingSecret); SQLite on one volume serves one replica" (int .Values.replicas)) -}}
{{- end -}}
{{- end }}

{{/*
Pod annotations: a checksum of the chart's policy files, so a policy change
restarts the bot; Prometheus' scrape hints; the caller's own.
*/}}
{{- define "jupyterhub-bot.podAnnotations" -}}
{{- $annotations := dict -}}
{{- if .Values.policies.files -}}
{{- $_ := set $annotations "checksum/policies" (include (print .Template.BasePath "/bot/policies.yaml") . | sha256sum) -}}
{{- end -}}
{{- if .Values.metrics.prometheusAnnotations -}}
{{- $_ := set $annotations "prometheus.io/scrape" "true" -}}
{{- $_ := set $annotations "prometheus.io/port" (include "jupyterhub-bot.port" .) -}}
{{- $_ := set $annotations "prometheus.io/path" "/metrics" -}}
{{- end -}}
{{- toYaml (merge $annotations (deepCopy (.Values.podAnnotations | default dict))) -}}
{{- end }}
