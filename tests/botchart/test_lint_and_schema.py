"""The bot's chart passes `helm lint --strict`; its schema rejects misspelt keys and
credentials given as values, describes every key, and matches values.yaml and the README."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml

from tests.botchart.conftest import BOT_CHART_DIR, REQUIRED_VALUES, Render
from tests.support.helm import assert_schema_refuses, schema_nodes
from tests.support.hub import deep_merge

SCHEMA: dict[str, Any] = json.loads((BOT_CHART_DIR / "values.schema.json").read_text())
VALUES: dict[str, Any] = yaml.safe_load((BOT_CHART_DIR / "values.yaml").read_text())


def _values_file(values: dict[str, Any], tmp_path: Path) -> Path:
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values))
    return path


def lint(helm: Path, values: dict[str, Any], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    command = [str(helm), "lint", "--strict", str(BOT_CHART_DIR), "--values", str(_values_file(values, tmp_path))]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({}, id="required-only"),
        pytest.param(
            {
                "replicas": 3,
                "database": {"existingSecret": "bot-db"},
                "ingress": {"enabled": True, "host": "bot.example.org", "tls": {"secretName": "bot-tls"}},
                "admissionPolicy": {"enabled": False},
            },
            id="postgres-ingress-no-policy",
        ),
        pytest.param(
            {
                "slack": {"mode": "socket"},
                "installationId": "platform-prod",
                "tlsSourceSecrets": [{"namespace": "cert-manager", "name": "wildcard-tls"}],
            },
            id="socket-mode-tls-source",
        ),
    ],
)
def test_lint_strict_is_clean(helm: Path, tmp_path: Path, extra: dict[str, Any]) -> None:
    result = lint(helm, deep_merge(REQUIRED_VALUES, extra), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout
    assert "[WARNING]" not in result.stdout and "[ERROR]" not in result.stdout


@pytest.mark.parametrize(
    ("values", "field", "problem"),
    [
        pytest.param({"replica": 2}, "replica", "not allowed", id="misspelt-top-level-key"),
        pytest.param({"slack": {"existingSecrt": "s"}}, "existingSecrt", "not allowed", id="misspelt-key"),
        pytest.param({"persistence": {"enable": False}}, "enable", "not allowed", id="misspelt-nested-key"),
        # A token can never be given as a value: there is no key for it.
        pytest.param({"slack": {"botToken": "xoxb-1-2-3"}}, "botToken", "not allowed", id="token-as-value"),
        pytest.param({"slack": {"adminChannelId": "#admins"}}, "/slack/adminChannelId", "pattern", id="channel"),
        pytest.param({"config": {"logFormat": "xml"}}, "/config/logFormat", "must be one of", id="log-format"),
        pytest.param({"config": {"leaseSeconds": 1}}, "/config/leaseSeconds", "minimum", id="lease"),
        pytest.param({"image": {"tag": "latest"}}, "/image/tag", "not", id="latest-tag"),
        pytest.param(
            {"policies": {"files": {"policy.json": "{}"}}}, "policy.json", "does not match pattern", id="file-name"
        ),
        pytest.param({"service": {"type": "ExternalName"}}, "/service/type", "must be one of", id="service-type"),
        pytest.param({"slack": {"mode": "rtm"}}, "/slack/mode", "must be one of", id="slack-mode"),
        pytest.param({"installationId": "team a"}, "/installationId", "pattern", id="installation-id-not-a-label"),
        pytest.param({"installationId": "t" * 64}, "/installationId", "maxLength", id="installation-id-too-long"),
        pytest.param(
            {"tlsSourceSecrets": [{"namespace": "cert-manager"}]},
            "/tlsSourceSecrets/0",
            "missing property 'name'",
            id="tls-source-without-name",
        ),
        pytest.param(
            {"tlsSourceSecrets": [{"namespace": "Cert_Manager", "name": "wildcard-tls"}]},
            "/tlsSourceSecrets/0/namespace",
            "pattern",
            id="tls-source-namespace",
        ),
    ],
)
def test_schema_rejects_with_a_message_naming_the_field(
    render: Render, values: dict[str, Any], field: str, problem: str
) -> None:
    assert_schema_refuses(render, values, field, problem)


def _notes(helm: Path, tmp_path: Path, values: dict[str, Any]) -> str:
    command = [str(helm), "install", "chatops", str(BOT_CHART_DIR), "--dry-run=client", "--namespace", "bots"]
    command += ["--values", str(_values_file(values, tmp_path))]
    env = {**os.environ, "KUBECONFIG": str(tmp_path / "no-cluster")}
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.split("NOTES:", 1)[1]


def test_notes_in_socket_mode_need_no_request_url_and_name_the_installation(helm: Path, tmp_path: Path) -> None:
    notes = _notes(helm, tmp_path, deep_merge(REQUIRED_VALUES, {"slack": {"mode": "socket"}}))
    assert "Socket Mode" in notes and "/slack/events" not in notes
    assert "kubectl get namespaces -l jupyterhub-bot.io/installation=bots.chatops" in notes


def test_notes_give_the_request_url_and_warn_about_weakened_settings(helm: Path, tmp_path: Path) -> None:
    values = deep_merge(
        REQUIRED_VALUES,
        {
            "ingress": {"enabled": True, "host": "bot.example.org", "tls": {"secretName": "bot-tls"}},
            "admissionPolicy": {"enabled": False},
            "persistence": {"enabled": False},
        },
    )
    command = [str(helm), "install", "chatops", str(BOT_CHART_DIR), "--dry-run=client", "--namespace", "bots"]
    command += ["--values", str(_values_file(values, tmp_path))]
    env = {**os.environ, "KUBECONFIG": str(tmp_path / "no-cluster")}
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, env=env)
    assert result.returncode == 0, result.stderr
    notes = result.stdout.split("NOTES:", 1)[1]
    assert "https://bot.example.org/slack/events" in notes
    assert "admissionPolicy.enabled is false" in notes
    assert "emptyDir" in notes


def test_schema_is_valid_and_accepts_the_defaults() -> None:
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    jsonschema.validate(VALUES, SCHEMA)
    jsonschema.validate(deep_merge(VALUES, REQUIRED_VALUES), SCHEMA)


def test_every_key_is_described() -> None:
    undocumented = [path for path, node in schema_nodes(SCHEMA) if len(node.get("description", "")) < 10]
    assert not undocumented


def test_objects_reject_unknown_keys() -> None:
    assert SCHEMA["additionalProperties"] is False
    open_objects = [
        path
        for path, node in schema_nodes(SCHEMA)
        if node.get("type") == "object" and "properties" in node and node.get("additionalProperties") is not False
    ]
    assert not open_objects


def value_paths(values: dict[str, Any], path: str = "") -> Iterator[str]:
    """Dotted paths of values.yaml, descending into non-empty mappings."""
    for name, value in values.items():
        child = f"{path}.{name}" if path else name
        yield child
        if isinstance(value, dict) and value:
            yield from value_paths(value, child)


def test_values_yaml_and_schema_list_the_same_keys() -> None:
    declared = {path for path, _ in schema_nodes(SCHEMA)}
    # The schema allows a CPU limit; values.yaml sets none by default.
    assert set(value_paths(VALUES)) == declared - {"resources.limits.cpu"}


def test_readme_documents_every_leaf_key() -> None:
    paths = list(value_paths(VALUES))
    leaves = {path for path in paths if not any(other.startswith(f"{path}.") for other in paths)}
    documented = set()
    section = (BOT_CHART_DIR / "README.md").read_text().split("\n## Values\n", 1)[1].split("\n## ", 1)[0]
    for line in section.splitlines():
        match = re.match(r"^\| `([A-Za-z0-9_.]+)` \|", line)
        if match:
            documented.add(match.group(1))
    assert documented == leaves
