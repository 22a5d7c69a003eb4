"""JupyterHub configuration of one jupyterhub-bot environment.

Non-secret settings come from settings.json beside this file (rendered by the
chart from its values), secrets from environment variables (filled from the
Secret "<fullname>-hub"), so the same file also runs outside Kubernetes.
Everything Kubernetes-specific sits in one marked block at the end, which a
test can replace with a local spawner.
"""

import json
import os
import sys
from pathlib import Path

# get_config is provided by traitlets when it loads this file.
c = get_config()  # type: ignore[name-defined]  # noqa: F821

SETTINGS_PATH = Path(os.environ.get("JUPYTERHUB_CHART_SETTINGS", Path(__file__).with_name("settings.json")))
settings = json.loads(SETTINGS_PATH.read_text())


def secret(name: str) -> str:
    """A required secret from the environment; a missing one stops the hub."""
    value = os.environ.get(name, "")
    if not value:
        raise RuntimeError(f"environment variable {name} is not set")
    return value


# Authentication: one shared-password admin, nobody else.
# JupyterHub 5+ admits nobody who is not explicitly allowed, admins included.
admin_user = settings["adminUser"]
c.JupyterHub.authenticator_class = "jupyterhub.authenticators.shared.SharedPasswordAuthenticator"
c.SharedPasswordAuthenticator.admin_password = secret("JUPYTERHUB_ADMIN_PASSWORD")
c.Authenticator.admin_users = {admin_user}
c.Authenticator.allowed_users = {admin_user}

# The proxy's REST API token (the proxy reads the same variable).
c.ConfigurableHTTPProxy.auth_token = secret("CONFIGPROXY_AUTH_TOKEN")

# The bot's service: reads users, their activity and their servers; nothing else.
c.JupyterHub.services = [
    {"name": "jupyterhub-bot", "api_token": secret("JUPYTERHUB_BOT_API_TOKEN")},
]
c.JupyterHub.load_roles = [
    {
        "name": "jupyterhub-bot",
        "description": "Read users, their activity and servers (jupyterhub-bot)",
        "scopes": ["list:users", "read:users:activity", "read:servers"],
        "services": ["jupyterhub-bot"],
    },
]

# Every minute, not every five: besides recording activity, this pass re-adds
# any route missing from the proxy, so user servers are reachable again within
# a minute after the proxy restarts (it keeps routes only in memory). Zero to
# JupyterHub sets the same.
c.JupyterHub.last_activity_interval = 60

# Idle culling, as a hub-managed service (the hub issues its token).
cull = settings["cull"]
if cull["enabled"]:
    c.JupyterHub.services.append(
        {
            "name": "idle-culler",
            "command": [
                sys.executable,
                "-m",
                "jupyterhub_idle_culler",
                f"--timeout={int(cull['timeout'])}",
                f"--cull-every={int(cull['every'])}",
            ],
        }
    )
    c.JupyterHub.load_roles.append(
        {
            "name": "idle-culler",
            "description": "Stop idle user servers",
            "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
            "services": ["idle-culler"],
        }
    )

# >>> kubernetes >>>
kubernetes = settings["kubernetes"]
data_dir = Path(kubernetes["dataDir"])

# The hub listens on all interfaces of its pod; user pods and the proxy reach it
# through its Service. The proxy runs in its own Deployment.
c.JupyterHub.hub_bind_url = kubernetes["hubBindUrl"]
c.JupyterHub.hub_connect_url = kubernetes["hubConnectUrl"]
c.ConfigurableHTTPProxy.api_url = kubernetes["proxyApiUrl"]
c.ConfigurableHTTPProxy.should_start = False
c.JupyterHub.db_url = f"sqlite:///{data_dir / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(data_dir / "jupyterhub_cookie_secret")
# User pods outlive a hub restart (upgrade, eviction).
c.JupyterHub.cleanup_servers = False

singleuser = kubernetes["singleuser"]
c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
c.KubeSpawner.namespace = kubernetes["namespace"]
c.KubeSpawner.common_labels = singleuser["labels"]
c.KubeSpawner.image = singleuser["image"]
c.KubeSpawner.image_pull_policy = "IfNotPresent"
c.KubeSpawner.port = singleuser["port"]
c.KubeSpawner.cpu_guarantee = singleuser["cpuGuarantee"]
c.KubeSpawner.cpu_limit = singleuser["cpuLimit"]
c.KubeSpawner.mem_guarantee = singleuser["memGuarantee"]
c.KubeSpawner.mem_limit = singleuser["memLimit"]
c.KubeSpawner.node_selector = singleuser["nodeSelector"]
c.KubeSpawner.tolerations = singleuser["tolerations"]
# User pods pass Pod Security "restricted" (environment namespaces enforce it):
# notebook images run as jovyan (uid 1000) in group users (gid 100), never as
# root, without privilege escalation or capabilities, under the runtime's
# default seccomp profile. Pod-level fields cover any container KubeSpawner adds.
c.KubeSpawner.uid = 1000
c.KubeSpawner.gid = 100
c.KubeSpawner.fs_gid = 100
c.KubeSpawner.privileged = False
c.KubeSpawner.allow_privilege_escalation = False
c.KubeSpawner.pod_security_context = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
c.KubeSpawner.container_security_context = {"capabilities": {"drop": ["ALL"]}}
# Large notebook images take a while to pull on a fresh node.
c.KubeSpawner.start_timeout = 600
c.KubeSpawner.http_timeout = 120

storage = singleuser["storage"]
if storage["enabled"]:
    c.KubeSpawner.storage_pvc_ensure = True
    c.KubeSpawner.storage_capacity = storage["capacity"]
    c.KubeSpawner.storage_access_modes = ["ReadWriteOnce"]
    if storage["storageClassName"]:
        c.KubeSpawner.storage_class = storage["storageClassName"]
    c.KubeSpawner.volumes = [
        {"name": "home", "persistentVolumeClaim": {"claimName": "{pvc_name}"}},
    ]
    c.KubeSpawner.volume_mounts = [{"name": "home", "mountPath": "/home/jovyan"}]
else:
    c.KubeSpawner.storage_pvc_ensure = False
# <<< kubernetes <<<
