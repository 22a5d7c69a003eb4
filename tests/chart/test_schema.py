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
        pytest.param(
            {"ingress": {"tls": {"enabled": False, "secretName": "lab-tls"}}},
            "/ingress/tls/secretName",
            "maxLength",
            id="tls-secret-without-tls",
        ),
        pytest.param(
            {"networkPolicy": {"apiServer": {"addresses": ["10.0.0.0/8"]}}},
            "/networkPolicy/apiServer/addresses/0",
            "pattern",
            id="api-server-address-is-a-range",
        ),
        pytest.param(
            {"networkPolicy": {"apiServer": {"addresses": ["kubernetes.default"]}}},
            "/networkPolicy/apiServer/addresses/0",
            "pattern",
            id="api-server-address-is-a-name",
        ),
        pytest.param(
            {"networkPolicy": {"apiServer": {"ports": []}}},
            "/networkPolicy/apiServer/ports",
            "minItems",
            id="api-server-without-ports",
        ),
        pytest.param(
            {"networkPolicy": {"apiServer": {"ports": [70000]}}},
            "/networkPolicy/apiServer/ports/0",
            "maximum",
            id="api-server-port",
        ),
        pytest.param({"hub": {"existingSecret": "Hub_Creds"}}, "/hub/existingSecret", "pattern", id="secret-name"),
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


@pytest.mark.parametrize(
    ("values", "field"),
    [
        pytest.param({"hub": {"adminPassword": "a" * 40}}, "/hub/adminPassword", id="admin-password"),
        pytest.param({"hub": {"botApiToken": "b" * 40}}, "/hub/botApiToken", id="bot-token"),
        pytest.param({"proxy": {"secretToken": "p" * 40}}, "/proxy/secretToken", id="proxy-token"),
    ],
)
def test_a_credential_beside_an_existing_secret_is_refused(render: Render, values: dict[str, Any], field: str) -> None:
    """With hub.existingSecret the credentials live only in that Secret; one given as a value
    as well would land in Helm's release history, so the schema refuses it."""
    assert_schema_refuses(
        render, deep_merge({"hub": {"existingSecret": "env-credentials"}}, values), field, "maxLength"
    )


def test_an_existing_secret_alone_is_enough(render: Render) -> None:
    objects = render({"hub": {"existingSecret": "env-credentials"}}, with_secrets=False)
    assert [o for o in objects if o["kind"] == "Secret"] == []


def test_request_above_limit_fails_naming_both_values(render: Render) -> None:
    with pytest.raises(HelmError, match=r"singleuser.memory.guarantee \(4G\) is larger than singleuser.memory.limit"):
        render({"singleuser": {"memory": {"guarantee": "4G", "limit": "2G"}}})
    with pytest.raises(HelmError, match=r"singleuser.cpu.guarantee \(2\) is larger than singleuser.cpu.limit"):
        render({"singleuser": {"cpu": {"guarantee": 2, "limit": 1}}})


def test_schema_is_valid_and_accepts_the_defaults_with_secrets_or_an_existing_secret() -> None:
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    jsonschema.validate(deep_merge(VALUES, HubSecrets.generate().values()), SCHEMA)
    jsonschema.validate(deep_merge(VALUES, {"hub": {"existingSecret": "env-credentials"}}), SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(VALUES, SCHEMA)


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
    """The keys in the first column of the README's values table (its "## Values" section)."""
    keys = set()
    section = readme.read_text().split("\n## Values\n", 1)[1].split("\n## ", 1)[0]
    for line in section.splitlines():
        match = re.match(r"^\| `([A-Za-z0-9_.]+)` \|", line)
        if match:
            keys.add(match.group(1))
    return keys


def test_readme_documents_every_leaf_key() -> None:
    leaves = {
        path for path in value_paths(VALUES) if not any(other.startswith(f"{path}.") for other in value_paths(VALUES))
    }
    assert readme_keys(CHART_DIR / "README.md") == leaves
