"""Fixtures for the chart tests: the helm binary, generated secrets, a renderer."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.support.hub import HubSecrets, deep_merge, helm_template

Objects = list[dict[str, Any]]
Render = Callable[..., Objects]


@pytest.fixture(scope="session")
def hub_secrets() -> HubSecrets:
    return HubSecrets.generate()


@pytest.fixture(scope="session")
def render(helm: Path, hub_secrets: HubSecrets) -> Render:
    """render(values, release=..., namespace=...) -> objects, with valid secrets merged in."""

    def _render(
        values: Mapping[str, Any] | None = None,
        *,
        release: str = "env",
        namespace: str = "env-ns",
        with_secrets: bool = True,
    ) -> Objects:
        merged = deep_merge(hub_secrets.values(), values or {}) if with_secrets else dict(values or {})
        return helm_template(helm, merged, release=release, namespace=namespace)

    return _render
