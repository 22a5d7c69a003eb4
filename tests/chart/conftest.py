"""Fixtures for the chart tests: the helm binary, generated secrets, a renderer."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.support.hub import HubSecrets, deep_merge, helm_template

Objects = list[dict[str, Any]]
Render = Callable[..., Objects]


def uses_existing_secret(values: Mapping[str, Any]) -> bool:
    """Whether these values name a Secret created outside the chart (hub.existingSecret)."""
    return bool((values.get("hub") or {}).get("existingSecret"))


@pytest.fixture(scope="session")
def hub_secrets() -> HubSecrets:
    return HubSecrets.generate()


@pytest.fixture(scope="session")
def render(helm: Path, hub_secrets: HubSecrets) -> Render:
    """render(values, release=..., namespace=...) -> objects, with valid secrets merged in
    unless the values name an existing Secret (or with_secrets=False)."""

    def _render(
        values: Mapping[str, Any] | None = None,
        *,
        release: str = "env",
        namespace: str = "env-ns",
        with_secrets: bool | None = None,
    ) -> Objects:
        if with_secrets is None:
            with_secrets = not uses_existing_secret(values or {})
        merged = deep_merge(hub_secrets.values(), values or {}) if with_secrets else dict(values or {})
        return helm_template(helm, merged, release=release, namespace=namespace)

    return _render
