"""helm lint --strict passes with valid values and reports missing secrets; NOTES.txt."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.hub import CHART_DIR, HubSecrets, deep_merge


def lint(helm: Path, values: dict[str, object] | None, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    command = [str(helm), "lint", "--strict", str(CHART_DIR)]
    if values is not None:
        values_file = tmp_path / "values.yaml"
        values_file.touch(mode=0o600)
        values_file.write_text(yaml.safe_dump(values))
        command += ["--values", str(values_file)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize(
    "values",
    [
        pytest.param(HubSecrets.generate().values(), id="secrets-as-values"),
        pytest.param({"hub": {"existingSecret": "env-credentials"}}, id="existing-secret"),
        pytest.param(
            {
                "hub": {"existingSecret": "env-credentials"},
                "ingress": {"enabled": True, "host": "lab.example.org", "tls": {"enabled": True}},
                "networkPolicy": {"apiServer": {"addresses": ["10.0.0.5"], "ports": [6443]}},
            },
            id="ingress-default-certificate-and-api-server",
        ),
    ],
)
def test_lint_strict_is_clean(helm: Path, tmp_path: Path, values: dict[str, object]) -> None:
    result = lint(helm, values, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout
    assert "[WARNING]" not in result.stdout
    assert "[ERROR]" not in result.stdout


def test_lint_without_secrets_names_them(helm: Path, tmp_path: Path) -> None:
    result = lint(helm, None, tmp_path)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    for field in ("/hub/adminPassword", "/hub/botApiToken", "/proxy/secretToken"):
        assert field in output


def test_notes_point_to_the_secret_never_the_password(helm: Path, tmp_path: Path) -> None:
    hub_secrets = HubSecrets.generate()
    values = deep_merge(
        hub_secrets.values(),
        {"ingress": {"enabled": True, "host": "lab.example.org", "tls": {"enabled": True, "secretName": "lab-tls"}}},
    )
    values_file = tmp_path / "values.yaml"
    values_file.touch(mode=0o600)
    values_file.write_text(yaml.safe_dump(values))
    command = [str(helm), "install", "lab", str(CHART_DIR), "--dry-run=client"]
    command += ["--namespace", "env-ns", "--values", str(values_file)]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "KUBECONFIG": str(tmp_path / "no-cluster")},
    )
    assert result.returncode == 0, result.stderr
    notes = result.stdout.split("NOTES:", 1)[1]
    assert "URL: https://lab.example.org/" in notes
    assert "kubectl get secret lab-hub -n env-ns" in notes
    assert hub_secrets.admin_password not in notes


def test_notes_point_to_an_existing_secret(helm: Path, tmp_path: Path) -> None:
    values_file = tmp_path / "values.yaml"
    values_file.write_text(yaml.safe_dump({"hub": {"existingSecret": "lab-credentials"}}))
    command = [str(helm), "install", "lab", str(CHART_DIR), "--dry-run=client"]
    command += ["--namespace", "env-ns", "--values", str(values_file)]
    env = {**os.environ, "KUBECONFIG": str(tmp_path / "no-cluster")}
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, env=env)
    assert result.returncode == 0, result.stderr
    notes = result.stdout.split("NOTES:", 1)[1]
    assert "kubectl get secret lab-credentials -n env-ns -o jsonpath='{.data.admin-password}'" in notes
