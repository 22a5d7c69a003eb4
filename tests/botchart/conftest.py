"""Fixtures for the bot's own chart: the helm binary, a renderer, the smallest valid values."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.support.hub import deep_merge, helm_template

REPO_ROOT = Path(__file__).resolve().parents[2]
BOT_CHART_DIR = REPO_ROOT / "charts" / "jupyterhub-bot"

# A policy the bot loads: nobody may do anything, one cluster (in-cluster).
POLICY = """\
roles: {}
profiles:
  tiny: {image: "quay.io/jupyter/minimal-notebook:2025-06-30", cpu: "0.5", memory: 512Mi, storage: 1Gi}
clusters:
  here: {service_type: NodePort}
defaults: {profile: tiny, cluster: here}
"""

# What every install must say: the image it built and pushed, where the Slack credentials
# are, the admin channel, the policies.
REQUIRED_VALUES: dict[str, Any] = {
    "image": {"repository": "registry.example.org/platform/jupyterhub-bot"},
    "slack": {"existingSecret": "slack-credentials", "adminChannelId": "C0ADMINS"},
    "policies": {"files": {"policy.yaml": POLICY}},
}

Objects = list[dict[str, Any]]
Render = Callable[..., Objects]


@pytest.fixture(scope="session")
def render(helm: Path) -> Render:
    """render(values, release=..., namespace=..., required=True) -> objects of the bot's chart."""

    def _render(
        values: Mapping[str, Any] | None = None,
        *,
        release: str = "jupyterhub-bot",
        namespace: str = "bots",
        required: bool = True,
    ) -> Objects:
        merged = deep_merge(REQUIRED_VALUES, values or {}) if required else dict(values or {})
        return helm_template(helm, merged, release=release, namespace=namespace, chart=BOT_CHART_DIR)

    return _render


def find(objects: Objects, kind: str, name: str | None = None) -> dict[str, Any]:
    """The one object of this kind (and name)."""
    matches = [o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]
    assert len(matches) == 1, (
        f"{len(matches)} {kind} {name or ''}; rendered: {[(o['kind'], o['metadata']['name']) for o in objects]}"
    )
    return matches[0]


def bot_container(objects: Objects) -> dict[str, Any]:
    containers: list[dict[str, Any]] = find(objects, "Deployment")["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["bot"]
    return containers[0]


def env_of(container: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The container's environment by name (each entry as written: value or valueFrom)."""
    return {entry["name"]: entry for entry in container.get("env", [])}
