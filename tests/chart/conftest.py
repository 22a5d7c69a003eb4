"""Fixtures for the chart tests: the helm binary, generated secrets, a renderer."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NoReturn

import pytest

from tests.support.hub import HubSecrets, deep_merge, find_helm, helm_template

Objects = list[dict[str, Any]]
Render = Callable[..., Objects]


def _unavailable(reason: str) -> NoReturn:
    if "CI" in os.environ:
        pytest.fail(f"{reason} (CI is set, so this is an error, not a skip)", pytrace=False)
    pytest.skip(f"HELM UNAVAILABLE, chart tests skipped: {reason}")


@pytest.fixture(scope="session")
def helm() -> Path:
    """$HELM, the project's cached build, helm on PATH, or one built by the cluster harness."""
    found = find_helm()
    if found is not None and found.exists():
        return found
    try:
        from tests.support.cluster import HarnessError, helm_binary
    except ImportError as exc:
        _unavailable(f"no helm found and no harness to build one ({exc})")
    try:
        return helm_binary()
    except HarnessError as exc:
        _unavailable(f"no helm found and the harness could not build one: {exc}")


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
