{{/*
Names. Every object name comes from one of these helpers; the bot relies on
"<fullname>-hub", "<fullname>-proxy-public" and friends, so the names are never
truncated: a fullname that would make an invalid name fails the render instead.
*/}}
{{- define "jupyterhub.fullname" -}}
{{- $name := .Values.fullnameOverride | default .Release.Name -}}
{{- if gt (len $name) 50 -}}
{{- fail (printf "fullname %q is %d characters long; at most 50 are allowed (set fullnameOverride or use a shorter release name)" $name (len $name)) -}}
{{- end -}}
{{- if not (regexMatch "^[a-z]([-a-z0-9]*[a-z0-9])?$" $name) -}}
{{- fail (printf "fullname %q must start with a letter and contain only lowercase letters, digits and '-' (set fullnameOverride)" $name) -}}
{{- end -}}
{{- $name -}}
{{- end }}

{{- define "jupyterhub.hub.fullname" -}}
{{- include "jupyterhub.fullname" . }}-hub
{{- end }}

{{- define "jupyterhub.hub-db.fullname" -}}
{{- include "jupyterhub.fullname" . }}-hub-db
{{- end }}

{{- define "jupyterhub.proxy.fullname" -}}
{{- include "jupyterhub.fullname" . }}-proxy
{{- end }}

{{- define "jupyterhub.proxy-api.fullname" -}}
{{- include "jupyterhub.fullname" . }}-proxy-api
{{- end }}

{{- define "jupyterhub.proxy-public.fullname" -}}
{{- include "jupyterhub.fullname" . }}-proxy-public
{{- end }}

{{- define "jupyterhub.singleuser.fullname" -}}
{{- include "jupyterhub.fullname" . }}-singleuser
{{- end }}

{{/*
The Secret holding the hub's credentials: hub.existingSecret when given (the
caller created it through the API, so no credential enters Helm's release
history), else the one this chart makes from the values.
*/}}
{{- define "jupyterhub.hub.secretName" -}}
{{- .Values.hub.existingSecret | default (include "jupyterhub.hub.fullname" .) -}}
{{- end }}

{{/*
The keys of that Secret, named once. Returns YAML; read one with
(include "jupyterhub.hub.secretKeys" . | fromYaml).adminPassword
*/}}
{{- define "jupyterhub.hub.secretKeys" -}}
adminPassword: admin-password
botApiToken: bot-api-token
proxyToken: proxy-token
{{- end }}

{{- define "jupyterhub.ingress.fullname" -}}
{{- include "jupyterhub.fullname" . }}
{{- end }}

{{- define "jupyterhub.quota.fullname" -}}
{{- include "jupyterhub.fullname" . }}
{{- end }}

{{/* Port numbers shared by Services, containers and the hub configuration. */}}
{{- define "jupyterhub.hub.port" -}}8081{{- end }}
{{- define "jupyterhub.proxy-api.port" -}}8001{{- end }}
{{- define "jupyterhub.proxy-http.port" -}}8000{{- end }}
{{- define "jupyterhub.singleuser.port" -}}8888{{- end }}

{{/*
Labels, in layers. Selector labels identify one component of one release and
never change across upgrades (no chart version in them). Common labels add the
chart's metadata and the caller's extra labels; ours win on a clash.
Component label helpers take (dict "root" $ "component" "hub").
*/}}
{{- define "jupyterhub.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "jupyterhub.commonLabelsDict" -}}
{{- $ours := dict
  "app.kubernetes.io/name" .Chart.Name
  "app.kubernetes.io/instance" .Release.Name
  "app.kubernetes.io/version" .Chart.AppVersion
  "app.kubernetes.io/managed-by" .Release.Service
  "app.kubernetes.io/part-of" "jupyterhub-bot"
  "helm.sh/chart" (printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_")
-}}
{{- merge $ours (deepCopy (.Values.labels | default dict)) | toJson -}}
{{- end }}

{{- define "jupyterhub.labels" -}}
{{- $labels := include "jupyterhub.commonLabelsDict" .root | fromJson -}}
{{- $_ := set $labels "app.kubernetes.io/component" .component -}}
{{- toYaml $labels -}}
{{- end }}

{{/* The component label KubeSpawner puts on user pods (its default). */}}
{{- define "jupyterhub.singleuser.component" -}}singleuser-server{{- end }}

{{/*
Quantities. Helm has no quantity arithmetic, so the quota is computed on plain
integers: CPU in millicores, memory and storage in bytes.
*/}}

{{/* CPU (number, "0.5", "2" or "500m") in millicores. */}}
{{- define "jupyterhub.cpuMilli" -}}
{{- $s := toString . -}}
{{- if hasSuffix "m" $s -}}
{{- trimSuffix "m" $s | int64 -}}
{{- else -}}
{{- round (mulf (float64 $s) 1000) 0 | int64 -}}
{{- end -}}
{{- end }}

{{/*
Bytes of a size string. (dict "value" "2G" "binary" true) reads K/M/G/T as
powers of 1024, as KubeSpawner does; otherwise they are Kubernetes' decimal
units. Ki/Mi/Gi/Ti are always powers of 1024.
*/}}
{{- define "jupyterhub.bytes" -}}
{{- $s := toString .value -}}
{{- $number := regexReplaceAll "^([0-9.]+).*$" $s "${1}" -}}
{{- $unit := regexReplaceAll "^[0-9.]+" $s "" -}}
{{- $binary := dict "" 1 "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 "Ti" 1099511627776 -}}
{{- $factors := dict "k" 1000 "K" 1000 "M" 1000000 "G" 1000000000 "T" 1000000000000 -}}
{{- if .binary -}}
{{- $factors = dict "K" 1024 "M" 1048576 "G" 1073741824 "T" 1099511627776 -}}
{{- end -}}
{{- $factors = merge $factors $binary -}}
{{- if not (hasKey $factors $unit) -}}
{{- fail (printf "cannot read the size %q" $s) -}}
{{- end -}}
{{- round (mulf (float64 $number) (get $factors $unit)) 0 | int64 -}}
{{- end }}

{{/* Bytes as a Kubernetes quantity, in the largest binary unit that divides them. */}}
{{- define "jupyterhub.formatBytes" -}}
{{- $bytes := . | int64 -}}
{{- $unit := "" -}}
{{- $size := $bytes -}}
{{- range $candidate := list (list "Ti" 1099511627776) (list "Gi" 1073741824) (list "Mi" 1048576) (list "Ki" 1024) -}}
{{- $factor := index $candidate 1 | int64 -}}
{{- if and (not $unit) (gt $bytes 0) (eq (mod $bytes $factor) 0) -}}
{{- $unit = index $candidate 0 -}}
{{- $size = div $bytes $factor -}}
{{- end -}}
{{- end -}}
{{- printf "%d%s" $size $unit -}}
{{- end }}

{{/* Egress to cluster DNS, wherever it runs (kube-dns, NodeLocal DNSCache, a cloud resolver). */}}
{{- define "jupyterhub.netpol.dnsEgress" -}}
- ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
{{- end }}

{{/* Millicores as a Kubernetes quantity: whole cores when exact, else "<n>m". */}}
{{- define "jupyterhub.formatCpu" -}}
{{- $milli := . | int64 -}}
{{- if eq (mod $milli 1000) 0 -}}
{{- div $milli 1000 -}}
{{- else -}}
{{- printf "%dm" $milli -}}
{{- end -}}
{{- end }}
