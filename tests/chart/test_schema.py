"""values.schema.json: it rejects bad values with a message naming the field,
documents every key, and lists the same keys as values.yaml and the README."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml

from tests.chart.conftest import Render
from tests.support.helm import assert_schema_refuses, schema_nodes
from tests.support.hub import CHART_DIR, HelmError, HubSecrets, deep_merge

SCHEMA: dict[str, Any] = json.loads((CHART_DIR / "values.schema.json").read_text())
VALUES: dict[str, Any] = yaml.safe_load((CHART_DIR / "values.yaml").read_text())


@pytest.mark.parametrize(
    ("values", "field", "problem"),
    [
        pytest.param({"hub": {"adminPasword": "x" * 40}}, "adminPasword", "not allowed", id="misspelt-key"),
        pytest.param({"cul": {"enabled": False}}, "cul", "not allowed", id="misspelt-top-level-key"),
        pytest.param({"hub": {"adminPassword": "short"}}, "/hub/adminPassword", "minLength", id="short-password"),
        pytest.param({"hub": {"botApiToken": "t" * 31}}, "/hub/botApiToken", "minLength", id="short-token"),
        pytest.param(
            {"proxy": {"secretToken": "with spaces " * 4}}, "/proxy/secretToken", "pattern", id="token-with-spaces"
        ),
        pytest.param({"cull": {"timeout": "soon"}}, "/cull/timeout", "want integer", id="wrong-type"),
        pytest.param({"singleuser": {"cpu": {"limit": "2"}}}, "/singleuser/cpu/limit", "want number", id="cpu-string"),
        pytest.param(
            {"singleuser": {"memory": {"limit": "2 GB"}}}, "/singleuser/memory/limit", "pattern", id="memory-unit"
        ),
        pytest.param(
            {"singleuser": {"storage": {"size": "10"}}}, "/singleuser/storage/size", "pattern", id="storage-unit"
        ),
        pytest.param(
            {"proxy": {"service": {"type": "ExternalName"}}}, "/proxy/service/type", "must be one of", id="service-type"
        ),
        pytest.param(
            {"proxy": {"service": {"type": "ClusterIP", "nodePort": 30080}}},
            "/proxy/service/nodePort",
            "want null",
            id="node-port-on-cluster-ip",
        ),
        pytest.param({"ingress": {"enabled": True}}, "/ingress/host", "minLength", id="ingress-without-host"),
        pytest.param({"quota": {"maxUserServers": 0}}, "/quota/maxUserServers", "minimum", id="no-servers"),
        pytest.param({"labels": {"owner": "not a label"}}, "/labels/owner", "pattern", id="label-value"),
        pytest.param(
            {"networkPolicy": {"egress": [{"too": []}]}}, "/networkPolicy/egress/0", "'too' not allowed", id="egress"
        ),
        pytest.param({"fullnameOverride": "Env_1"}, "/fullnameOverride", "pattern", id="fullname"),
        pytest.param({"singleuser": {"image": {"tag": "latest"}}}, "/singleuser/image/tag", "not", id="latest-tag"),
    ],
)
def test_invalid_values_fail_with_the_schema_message(
    render: Render, values: dict[str, Any], field: str, problem: str
) -> None:
    assert_schema_refuses(render, values, field, problem)


def test_missing_secrets_are_named(render: Render) -> None:
    with pytest.raises(HelmError) as failure:
        render({}, with_secrets=False)
    message = failure.value.stderr
    for field in ("/hub/adminPassword", "/hub/botApiToken", "/proxy/secretToken"):
        assert f"'{field}': minLength: got 0, want 32" in message


def test_request_above_limit_fails_naming_both_values(render: Render) -> None:
    with pytest.raises(HelmError, match=r"singleuser.memory.guarantee \(4G\) is larger than singleuser.memory.limit"):
        render({"singleuser": {"memory": {"guarantee": "4G", "limit": "2G"}}})
    with pytest.raises(HelmError, match=r"singleuser.cpu.guarantee \(2\) is larger than singleuser.cpu.limit"):
        render({"singleuser": {"cpu": {"guarantee": 2, "limit": 1}}})


def test_schema_is_valid_and_accepts_the_defaults_with_secrets() -> None:
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    jsonschema.validate(deep_merge(VALUES, HubSecrets.generate().values()), SCHEMA)


def test_every_key_is_described() -> None:
    undocumented = [path for path, node in schema_nodes(SCHEMA) if len(node.get("description", "")) < 10]
    assert not undocumented


def test_objects_reject_unknown_keys() -> None:
    open_objects = [
        path
        for path, node in schema_nodes(SCHEMA)
        if node.get("type") == "object" and "properties" in node and node.get("additionalProperties") is not False
    ]
    assert not open_objects
    assert SCHEMA["additionalProperties"] is False


def value_paths(values: dict[str, Any], path: str = "") -> Iterator[str]:
    """Dotted paths of values.yaml, descending into non-empty mappings."""
    for name, value in values.items():
        child = f"{path}.{name}" if path else name
        yield child
        if isinstance(value, dict) and value:
            yield from value_paths(value, child)


def schema_paths() -> set[str]:
    """Dotted paths the schema declares, except the insides of hub/proxy resources."""
    declared = {path for path, _ in schema_nodes(SCHEMA)}
    # hub.resources / proxy.resources declare requests/limits, which values.yaml leaves as {}.
    return {path for path in declared if not re.match(r"^(hub|proxy)\.resources\.", path)}


def test_values_yaml_and_schema_list_the_same_keys() -> None:
    assert set(value_paths(VALUES)) == schema_paths()


def readme_keys(readme: Path) -> set[str]:
    keys = set()
    for line in readme.read_text().splitlines():
        match = re.match(r"^\| `([A-Za-z0-9_.]+)` \|", line)
        if match:
            keys.add(match.group(1))
    return keys


def test_readme_documents_every_leaf_key() -> None:
    leaves = {
        path for path in value_paths(VALUES) if not any(other.startswith(f"{path}.") for other in value_paths(VALUES))
    }
    assert readme_keys(CHART_DIR / "README.md") == leaves
