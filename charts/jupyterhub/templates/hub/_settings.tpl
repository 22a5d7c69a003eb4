{{/*
The non-secret settings jupyterhub_config.py reads (settings.json beside it).
Secrets never go here: the hub reads them from environment variables that the
Deployment fills from the Secret.
*/}}
{{- define "jupyterhub.hub.settings" -}}
{{- $v := .Values -}}
{{- $su := $v.singleuser -}}
{{- $userLabels := merge
  (dict
    "app.kubernetes.io/name" .Chart.Name
    "app.kubernetes.io/instance" .Release.Name
    "app.kubernetes.io/managed-by" "kubespawner"
    "app.kubernetes.io/part-of" "jupyterhub-bot"
    "app" "jupyterhub"
    "heritage" "jupyterhub")
  (deepCopy ($v.labels | default dict)) -}}
{{- $storage := dict "enabled" $su.storage.enabled -}}
{{- if $su.storage.enabled -}}
{{- $_ := set $storage "capacity" $su.storage.size -}}
{{- $_ := set $storage "storageClassName" $su.storage.storageClassName -}}
{{- end -}}
{{- $settings := dict
  "adminUser" $v.hub.adminUser
  "cull" (dict "enabled" $v.cull.enabled "timeout" ($v.cull.timeout | int) "every" ($v.cull.every | int))
  "kubernetes" (dict
    "namespace" .Release.Namespace
    "hubBindUrl" (printf "http://:%s" (include "jupyterhub.hub.port" .))
    "hubConnectUrl" (printf "http://%s:%s" (include "jupyterhub.hub.fullname" .) (include "jupyterhub.hub.port" .))
    "proxyApiUrl" (printf "http://%s:%s" (include "jupyterhub.proxy-api.fullname" .) (include "jupyterhub.proxy-api.port" .))
    "dataDir" "/srv/jupyterhub"
    "singleuser" (dict
      "image" (printf "%s:%s" $su.image.name $su.image.tag)
      "port" (include "jupyterhub.singleuser.port" . | int)
      "cpuGuarantee" (float64 $su.cpu.guarantee)
      "cpuLimit" (float64 $su.cpu.limit)
      "memGuarantee" (include "jupyterhub.bytes" (dict "value" $su.memory.guarantee "binary" true) | int64)
      "memLimit" (include "jupyterhub.bytes" (dict "value" $su.memory.limit "binary" true) | int64)
      "storage" $storage
      "labels" $userLabels
      "nodeSelector" ($v.scheduling.nodeSelector | default dict)
      "tolerations" ($v.scheduling.tolerations | default list)))
-}}
{{- toPrettyJson $settings -}}
{{- end }}
