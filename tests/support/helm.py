"""The ``helm`` fixture, shared by every test that renders or installs a chart.

$HELM, the project's cached build, helm on PATH, or one the cluster harness builds. When
none can be had, tests that need it fail in CI and are skipped (loudly) elsewhere."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

from tests.support.hub import find_helm

__all__ = ["assert_schema_refuses", "helm", "schema_nodes"]


def _unavailable(reason: str) -> NoReturn:
    if "CI" in os.environ:
        pytest.fail(f"{reason} (CI is set, so this is an error, not a skip)", pytrace=False)
    pytest.skip(f"HELM UNAVAILABLE, tests that render charts are skipped: {reason}")


@pytest.fixture(scope="session")
def helm() -> Path:
    found = find_helm()
    if found is not None and found.exists():
        return found
    from tests.support.cluster import HarnessError, helm_binary

    try:
        return helm_binary()
    except HarnessError as exc:
        _unavailable(f"no helm found and the harness could not build one: {exc}")


def schema_nodes(node: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every node of a values schema under ``properties``, with its dotted path."""
    for name, child in node.get("properties", {}).items():
        child_path = f"{path}.{name}" if path else name
        yield child_path, child
        yield from schema_nodes(child, child_path)


def assert_schema_refuses(render: Callable[..., Any], values: dict[str, Any], field: str, problem: str) -> None:
    """Rendering ``values`` fails with the chart schema's message, naming ``field`` and ``problem``."""
    from tests.support.hub import HelmError

    with pytest.raises(HelmError) as failure:
        render(values)
    message = failure.value.stderr
    assert "don't meet the specifications of the schema" in message
    assert field in message
    assert problem in message
