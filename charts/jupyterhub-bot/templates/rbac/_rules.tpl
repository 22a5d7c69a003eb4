{{/*
The RBAC rules, in one place so the README and the tests can point at them.
Each rule says which step of the bot needs it.
*/}}
{{- define "jupyterhub-bot.botRole.rules" -}}
# Create each environment's namespace (labelled with this install's id), find
# the bot's namespaces by that label when reconciling, delete them at teardown,
# and patch the owner labels when a warm pool's hub is handed to a launch. The
# admission policy lets a patch through only on a namespace that already is
# this install's and stays so, at Pod Security "restricted": the bot cannot
# label someone else's namespace as its own, nor lower a Pod Security level.
- apiGroups: [""]
  resources: [namespaces]
  verbs: [create, get, list, delete, patch]
# A node's address for NodePort URLs, when the policy gives no public_address.
- apiGroups: [""]
  resources: [nodes]
  verbs: [list]
# The RoleBinding that gives the bot the environment ClusterRole inside a
# namespace it has just created. The namespace does not exist beforehand, so
# this cannot be a namespaced grant.
- apiGroups: [rbac.authorization.k8s.io]
  resources: [rolebindings]
  verbs: [create]
# ...and the right to reference exactly that ClusterRole in a binding.
- apiGroups: [rbac.authorization.k8s.io]
  resources: [clusterroles]
  verbs: [bind]
  resourceNames: [{{ include "jupyterhub-bot.environmentRole.fullname" . }}]
{{- end }}

{{- define "jupyterhub-bot.environmentRole.rules" -}}
# What charts/jupyterhub creates, and Helm's release records (Secrets
# sh.helm.release.v1.*): install, upgrade (server-side apply patches),
# uninstall, and list/watch for `helm --wait`. The bot reads the hub's
# Secret, Service and Ingress for the login and the URL.
- apiGroups: [""]
  resources: [configmaps, secrets, services, serviceaccounts, persistentvolumeclaims, resourcequotas, limitranges]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [networking.k8s.io]
  resources: [networkpolicies, ingresses]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [rbac.authorization.k8s.io]
  resources: [roles, rolebindings]
  verbs: [get, list, watch, create, update, patch, delete]
# The hub's Role lets KubeSpawner start and stop user pods and volumes and read
# events; Kubernetes lets the bot grant only rights it holds itself. Helm's
# wait reads the pods and ReplicaSets behind each Deployment.
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch, create, delete]
- apiGroups: [""]
  resources: [events]
  verbs: [get, list, watch]
- apiGroups: [apps]
  resources: [replicasets]
  verbs: [get, list, watch]
# Hub activity when the bot reaches this cluster through a kubeconfig: a
# port-forward to the proxy's pod through the API server, so the hub's token
# never leaves the cluster's trust boundary (the API server's service proxy
# cannot carry it: it strips the Authorization header). The WebSocket upgrade is
# a GET, authorized as get; Kubernetes 1.35+ also checks create
# (AuthorizePodWebsocketUpgradeCreatePermission), as it always did for SPDY.
- apiGroups: [""]
  resources: [pods/portforward]
  verbs: [get, create]
{{- end }}


{{/*
In namespace default, the API server's addresses and ports: the bot reads them
at deploy time for each hub's egress policy (networkPolicy.apiServer of
charts/jupyterhub). One object by name; no list, no other slice.
*/}}
{{- define "jupyterhub-bot.apiServerEndpoints.rules" -}}
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [get]
  resourceNames: [kubernetes]
{{- end }}

{{/* In a TLS source's namespace: read exactly the named wildcard Secrets, to copy them. Takes a list of names. */}}
{{- define "jupyterhub-bot.tlsSource.rules" -}}
- apiGroups: [""]
  resources: [secrets]
  verbs: [get]
  resourceNames: {{ toJson . }}
{{- end }}
