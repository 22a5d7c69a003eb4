"""The user pod KubeSpawner would create, built by KubeSpawner itself from the chart's
rendered hub configuration (no hub, no API call): what Pod Security admission will see.

KubeSpawner loads a kubeconfig when constructed (from $KUBECONFIG, read once per
process), so the pod is built in a child process: ``python -m tests.chart.user_pod DIR``
prints it as JSON."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.support.hub import HubSecrets

__all__ = ["user_pod_manifest"]

REPO_ROOT = Path(__file__).resolve().parents[2]

# Constructing KubeSpawner needs a kubeconfig; building a pod never uses it.
_UNUSED_KUBECONFIG = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [{"name": "unused", "cluster": {"server": "https://127.0.0.1:9"}}],
    "users": [{"name": "unused", "user": {"token": "unused"}}],
    "contexts": [{"name": "unused", "context": {"cluster": "unused", "user": "unused"}}],
    "current-context": "unused",
}


def user_pod_manifest(config_files: dict[str, str], workdir: Path, secrets: HubSecrets) -> dict[str, Any]:
    """The pod (an API object, camelCase keys) for a user of the hub configured by
    ``config_files`` (jupyterhub_config.py and settings.json from the hub ConfigMap)."""
    for name, text in config_files.items():
        (workdir / name).write_text(text)
    kubeconfig = workdir / "unused-kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(_UNUSED_KUBECONFIG))
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith(("KUBERNETES_", "JUPYTERHUB_"))
    }
    environment.update(secrets.environment())
    environment["KUBECONFIG"] = str(kubeconfig)
    done = subprocess.run(
        [sys.executable, "-m", "tests.chart.user_pod", str(workdir)],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    manifest: dict[str, Any] = json.loads(done.stdout)
    return manifest


def _build(config_dir: str) -> dict[str, Any]:
    from kubernetes_asyncio.client import ApiClient
    from kubespawner import KubeSpawner
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("jupyterhub_config.py", path=config_dir).load_config()

    async def build() -> dict[str, Any]:
        spawner = KubeSpawner(config=config, _mock=True)
        pod = await spawner.get_pod_manifest()
        async with ApiClient() as api:
            serialized: dict[str, Any] = api.sanitize_for_serialization(pod)
        return serialized

    return asyncio.run(build())


if __name__ == "__main__":
    print(json.dumps(_build(sys.argv[1])))
