"""The rendered jupyterhub_config.py, loaded the way JupyterHub loads it (traitlets),
without starting a hub: authentication, the bot's role, culling, KubeSpawner."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from tests.chart.conftest import Render
from tests.chart.user_pod import user_pod_manifest
from tests.chart.value_sets import LARGE_PROFILE, NO_ISOLATION, NO_STORAGE
from tests.support.hub import HubSecrets, hub_config_files, swap_kubernetes_block

BOT_SCOPES = ["list:users", "read:users:activity", "read:servers"]


def load(
    render: Render, values: dict[str, Any], tmp_path: Path, secrets: HubSecrets, monkeypatch: pytest.MonkeyPatch
) -> tuple[Config, str]:
    for name, text in hub_config_files(render(values)).items():
        (tmp_path / name).write_text(text)
    for name, value in secrets.environment().items():
        monkeypatch.setenv(name, value)
    config = PyFileConfigLoader("jupyterhub_config.py", path=str(tmp_path)).load_config()
    return config, (tmp_path / "jupyterhub_config.py").read_text()


def test_authentication_admits_only_the_admin(
    render: Render, tmp_path: Path, hub_secrets: HubSecrets, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, _ = load(render, {}, tmp_path, hub_secrets, monkeypatch)
    assert config.JupyterHub.authenticator_class == ("jupyterhub.authenticators.shared.SharedPasswordAuthenticator")
    assert config.SharedPasswordAuthenticator.admin_password == hub_secrets.admin_password
    assert "user_password" not in config.SharedPasswordAuthenticator
    assert config.Authenticator.admin_users == {"admin"}
    assert config.Authenticator.allowed_users == {"admin"}
    assert config.ConfigurableHTTPProxy.auth_token == hub_secrets.proxy_token


def test_bot_service_has_only_read_scopes(
    render: Render, tmp_path: Path, hub_secrets: HubSecrets, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, _ = load(render, {}, tmp_path, hub_secrets, monkeypatch)
    services = {service["name"]: service for service in config.JupyterHub.services}
    assert services["jupyterhub-bot"] == {"name": "jupyterhub-bot", "api_token": hub_secrets.bot_api_token}
    roles = {role["name"]: role for role in config.JupyterHub.load_roles}
    assert roles["jupyterhub-bot"]["scopes"] == BOT_SCOPES
    assert roles["jupyterhub-bot"]["services"] == ["jupyterhub-bot"]


def test_idle_culler_follows_the_values(
    render: Render, tmp_path: Path, hub_secrets: HubSecrets, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, _ = load(render, LARGE_PROFILE, tmp_path, hub_secrets, monkeypatch)
    services = {service["name"]: service for service in config.JupyterHub.services}
    command = services["idle-culler"]["command"]
    assert command[1:] == ["-m", "jupyterhub_idle_culler", "--timeout=7200", "--cull-every=600"]
    roles = {role["name"]: role for role in config.JupyterHub.load_roles}
    assert roles["idle-culler"]["scopes"] == [*BOT_SCOPES, "delete:servers"]


def test_no_culler_when_disabled(
    render: Render, tmp_path: Path, hub_secrets: HubSecrets, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, _ = load(render, NO_ISOLATION, tmp_path, hub_secrets, monkeypatch)
    assert [service["name"] for service in config.JupyterHub.services] == ["jupyterhub-bot"]
    assert [role["name"] for role in config.JupyterHub.load_roles] == ["jupyterhub-bot"]


def test_missing_secret_stops_the_hub(
    render: Render, tmp_path: Path, hub_secrets: HubSecrets, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, text in hub_config_files(render({})).items():
        (tmp_path / name).write_text(text)
    for name, value in hub_secrets.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("JUPYTERHUB_BOT_API_TOKEN")
    with pytest.raises(RuntimeError, match="JUPYTERHUB_BOT_API_TOKEN is not set"):
        PyFileConfigLoader("jupyterhub_config.py", path=str(tmp_path)).load_config()


def test_kubespawner_gets_the_profile(
    render: Render, tmp_path: Path, hub_secrets: HubSecrets, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, _ = load(render, LARGE_PROFILE, tmp_path, hub_secrets, monkeypatch)
    spawner = config.KubeSpawner
    assert config.JupyterHub.spawner_class == "kubespawner.KubeSpawner"
    assert spawner.namespace == "env-ns"
    assert spawner.image == "quay.io/jupyter/scipy-notebook:2026-10-05"
    assert (spawner.cpu_guarantee, spawner.cpu_limit) == (4, 8)
    assert (spawner.mem_guarantee, spawner.mem_limit) == (16 * 1024**3, 32 * 1024**3)
    assert spawner.storage_capacity == "200Gi"
    assert spawner.storage_class == "fast-ssd"
    assert spawner.storage_pvc_ensure is True
    assert spawner.volume_mounts == [{"name": "home", "mountPath": "/home/jovyan"}]
    assert spawner.common_labels["app.kubernetes.io/instance"] == "env"
    assert spawner.common_labels["jupyterhub-bot/owner"] == "U0456EFGH"
    assert config.JupyterHub.hub_connect_url == "http://big-lab-hub:8081"
    assert config.ConfigurableHTTPProxy.api_url == "http://big-lab-proxy-api:8001"
    assert config.ConfigurableHTTPProxy.should_start is False
    assert config.JupyterHub.db_url == "sqlite:////srv/jupyterhub/jupyterhub.sqlite"


def test_kubespawner_without_storage(
    render: Render, tmp_path: Path, hub_secrets: HubSecrets, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, _ = load(render, NO_STORAGE, tmp_path, hub_secrets, monkeypatch)
    assert config.KubeSpawner.storage_pvc_ensure is False
    assert "volumes" not in config.KubeSpawner
    assert "storage_class" not in config.KubeSpawner


def test_every_kubespawner_setting_exists(
    render: Render, tmp_path: Path, hub_secrets: HubSecrets, monkeypatch: pytest.MonkeyPatch
) -> None:
    kubespawner = pytest.importorskip("kubespawner", reason="jupyterhub-kubespawner is not installed")
    _, text = load(render, LARGE_PROFILE, tmp_path, hub_secrets, monkeypatch)
    known = set(kubespawner.KubeSpawner.class_trait_names(config=True))
    used = set(re.findall(r"^\s*c\.KubeSpawner\.(\w+)\s*=", text, flags=re.MULTILINE))
    assert used
    assert used <= known, f"unknown KubeSpawner settings: {sorted(used - known)}"


def test_kubernetes_block_is_marked_and_swappable(
    render: Render, tmp_path: Path, hub_secrets: HubSecrets, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, text = load(render, {}, tmp_path, hub_secrets, monkeypatch)
    assert text.count("# >>> kubernetes >>>") == text.count("# <<< kubernetes <<<") == 1
    swapped = swap_kubernetes_block(text, 'c.JupyterHub.spawner_class = "simple"')
    assert "KubeSpawner" not in swapped
    (tmp_path / "jupyterhub_config.py").write_text(swapped)
    config = PyFileConfigLoader("jupyterhub_config.py", path=str(tmp_path)).load_config()
    assert config.JupyterHub.spawner_class == "simple"
    assert config.Authenticator.allowed_users == {"admin"}
    assert "KubeSpawner" not in config


def test_routes_are_checked_every_minute(
    render: Render, tmp_path: Path, hub_secrets: HubSecrets, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The activity pass also re-adds routes a restarted proxy lost (JupyterHub's
    update_last_activity ends in check_routes); its default is every 300 s."""
    config, _ = load(render, {}, tmp_path, hub_secrets, monkeypatch)
    assert config.JupyterHub.last_activity_interval == 60
    jupyterhub_app = pytest.importorskip("jupyterhub.app")
    assert jupyterhub_app.JupyterHub.last_activity_interval.default_value == 300


def test_user_pods_kubespawner_builds_pass_pod_security_restricted(
    render: Render, tmp_path: Path, hub_secrets: HubSecrets
) -> None:
    """KubeSpawner itself builds the user pod from the rendered configuration; it carries
    everything the restricted Pod Security Standard asks of a pod."""
    pytest.importorskip("kubespawner", reason="jupyterhub-kubespawner is not installed")
    pod = user_pod_manifest(hub_config_files(render(LARGE_PROFILE)), tmp_path, hub_secrets)
    spec = pod["spec"]
    assert spec["securityContext"] == {
        "fsGroup": 100,
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    containers = spec["containers"] + spec.get("initContainers", [])
    assert [c["name"] for c in containers] == ["notebook"]
    for container in containers:
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"] == {"drop": ["ALL"]}
        assert context["runAsUser"] == 1000 and context["runAsGroup"] == 100
        assert not context.get("privileged")
    assert not any(spec.get(host) for host in ("hostNetwork", "hostPID", "hostIPC"))
    assert [v["name"] for v in spec["volumes"] if "persistentVolumeClaim" not in v] == []
    # The user-server NetworkPolicy selects this pod.
    labels = pod["metadata"]["labels"]
    assert labels["app.kubernetes.io/component"] == "singleuser-server"
    assert labels["app.kubernetes.io/instance"] == "env"
    assert labels["app.kubernetes.io/name"] == "jupyterhub"
