{{/*
What one container will really request and be limited to once the LimitRange
has filled in its defaults: an unset request equals the limit when a limit is
set, else the LimitRange's defaultRequest; an unset limit is the default limit.
Takes (dict "resources" <container resources> "defaults" .Values.quota.containerDefaults)
and returns JSON with string integers: cpu in millicores, memory in bytes.
*/}}
{{- define "jupyterhub.quota.effective" -}}
{{- $requests := .resources.requests | default dict -}}
{{- $limits := .resources.limits | default dict -}}
{{- $limitCpu := $limits.cpu | default .defaults.limit.cpu -}}
{{- $limitMemory := $limits.memory | default .defaults.limit.memory -}}
{{- $requestCpu := $requests.cpu | default $limits.cpu | default .defaults.request.cpu -}}
{{- $requestMemory := $requests.memory | default $limits.memory | default .defaults.request.memory -}}
{{- dict
  "requestCpu" (include "jupyterhub.cpuMilli" $requestCpu)
  "limitCpu" (include "jupyterhub.cpuMilli" $limitCpu)
  "requestMemory" (include "jupyterhub.bytes" (dict "value" $requestMemory))
  "limitMemory" (include "jupyterhub.bytes" (dict "value" $limitMemory))
  | toJson -}}
{{- end }}

{{/*
The namespace budget, derived from the profile: quota.maxUserServers user
servers (singleuser.*) plus the hub and the proxy, their volumes and Services.
Returns JSON with string integers.
*/}}
{{- define "jupyterhub.quota.budget" -}}
{{- $v := .Values -}}
{{- $servers := $v.quota.maxUserServers | int64 -}}
{{- $user := dict
  "requestCpu" (include "jupyterhub.cpuMilli" $v.singleuser.cpu.guarantee | int64)
  "limitCpu" (include "jupyterhub.cpuMilli" $v.singleuser.cpu.limit | int64)
  "requestMemory" (include "jupyterhub.bytes" (dict "value" $v.singleuser.memory.guarantee "binary" true) | int64)
  "limitMemory" (include "jupyterhub.bytes" (dict "value" $v.singleuser.memory.limit "binary" true) | int64)
-}}
{{- $hub := include "jupyterhub.quota.effective" (dict "resources" $v.hub.resources "defaults" $v.quota.containerDefaults) | fromJson -}}
{{- $proxy := include "jupyterhub.quota.effective" (dict "resources" $v.proxy.resources "defaults" $v.quota.containerDefaults) | fromJson -}}
{{- $budget := dict -}}
{{- range $key := list "requestCpu" "limitCpu" "requestMemory" "limitMemory" -}}
{{- $total := add (mul $servers (get $user $key)) (get $hub $key | int64) (get $proxy $key | int64) -}}
{{- $_ := set $budget $key (printf "%d" ($total | int64)) -}}
{{- end -}}
{{- $claims := 0 -}}
{{- $storage := 0 -}}
{{- if $v.singleuser.storage.enabled -}}
{{- $claims = add $claims $servers -}}
{{- $storage = add $storage (mul $servers (include "jupyterhub.bytes" (dict "value" $v.singleuser.storage.size) | int64)) -}}
{{- end -}}
{{- if $v.hub.db.pvc.enabled -}}
{{- $claims = add $claims 1 -}}
{{- $storage = add $storage (include "jupyterhub.bytes" (dict "value" $v.hub.db.pvc.size) | int64) -}}
{{- end -}}
{{- $type := $v.proxy.service.type -}}
{{- $_ := set $budget "pods" (printf "%d" (add $servers 2 | int64)) -}}
{{- $_ = set $budget "persistentVolumeClaims" (printf "%d" ($claims | int64)) -}}
{{- $_ = set $budget "storage" (printf "%d" ($storage | int64)) -}}
{{- $_ = set $budget "services" "3" -}}
{{- $_ = set $budget "nodePorts" (ternary "1" "0" (or (eq $type "NodePort") (eq $type "LoadBalancer"))) -}}
{{- $_ = set $budget "loadBalancers" (ternary "1" "0" (eq $type "LoadBalancer")) -}}
{{- /* The largest single container and volume, for the LimitRange's max. */ -}}
{{- $maxCpu := max ($user.limitCpu) ($hub.limitCpu | int64) ($proxy.limitCpu | int64) -}}
{{- $maxMemory := max ($user.limitMemory) ($hub.limitMemory | int64) ($proxy.limitMemory | int64) -}}
{{- $_ = set $budget "maxContainerCpu" (printf "%d" ($maxCpu | int64)) -}}
{{- $_ = set $budget "maxContainerMemory" (printf "%d" ($maxMemory | int64)) -}}
{{- $maxClaim := 0 -}}
{{- if $v.singleuser.storage.enabled -}}
{{- $maxClaim = max $maxClaim (include "jupyterhub.bytes" (dict "value" $v.singleuser.storage.size) | int64) -}}
{{- end -}}
{{- if $v.hub.db.pvc.enabled -}}
{{- $maxClaim = max $maxClaim (include "jupyterhub.bytes" (dict "value" $v.hub.db.pvc.size) | int64) -}}
{{- end -}}
{{- $_ = set $budget "maxClaimStorage" (printf "%d" ($maxClaim | int64)) -}}
{{- toJson $budget -}}
{{- end }}

{{/* Fails the render when a request exceeds its limit, naming the values. */}}
{{- define "jupyterhub.quota.check" -}}
{{- $v := .Values -}}
{{- if gt (include "jupyterhub.cpuMilli" $v.singleuser.cpu.guarantee | int64) (include "jupyterhub.cpuMilli" $v.singleuser.cpu.limit | int64) -}}
{{- fail (printf "singleuser.cpu.guarantee (%v) is larger than singleuser.cpu.limit (%v)" $v.singleuser.cpu.guarantee $v.singleuser.cpu.limit) -}}
{{- end -}}
{{- if gt (include "jupyterhub.bytes" (dict "value" $v.singleuser.memory.guarantee "binary" true) | int64) (include "jupyterhub.bytes" (dict "value" $v.singleuser.memory.limit "binary" true) | int64) -}}
{{- fail (printf "singleuser.memory.guarantee (%v) is larger than singleuser.memory.limit (%v)" $v.singleuser.memory.guarantee $v.singleuser.memory.limit) -}}
{{- end -}}
{{- $d := $v.quota.containerDefaults -}}
{{- if gt (include "jupyterhub.cpuMilli" $d.request.cpu | int64) (include "jupyterhub.cpuMilli" $d.limit.cpu | int64) -}}
{{- fail (printf "quota.containerDefaults.request.cpu (%v) is larger than quota.containerDefaults.limit.cpu (%v)" $d.request.cpu $d.limit.cpu) -}}
{{- end -}}
{{- if gt (include "jupyterhub.bytes" (dict "value" $d.request.memory) | int64) (include "jupyterhub.bytes" (dict "value" $d.limit.memory) | int64) -}}
{{- fail (printf "quota.containerDefaults.request.memory (%v) is larger than quota.containerDefaults.limit.memory (%v)" $d.request.memory $d.limit.memory) -}}
{{- end -}}
{{- end }}
