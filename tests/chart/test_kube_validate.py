"""Every rendered object is valid Kubernetes: offline against the API's JSON
schemas (kubernetes-validate, strict: unknown fields fail), and on the local
cluster by a server-side dry run (marked ``cluster``)."""

from __future__ import annotations

import secrets
import subprocess

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from tests.chart.conftest import Render
from tests.chart.value_sets import VALUE_SETS
from tests.support.cluster import LocalCluster

# The chart's minimum (Chart.yaml kubeVersion) and the newest schemas we have.
KUBERNETES_VERSIONS = ["1.28.0", kubernetes_validate.utils.latest_version()]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_objects_match_the_kubernetes_schema(render: Render, value_set: str, version: str) -> None:
    problems = []
    for obj in render(VALUE_SETS[value_set]):
        name = f"{obj['kind']}/{obj['metadata']['name']}"
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(part) for part in error.path)
            problems.append(f"{name}: {path}: {error.message}")
    assert not problems, "\n".join(problems)


@pytest.mark.cluster
@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_objects_pass_a_server_side_dry_run(local_cluster: LocalCluster, render: Render, value_set: str) -> None:
    def kubectl(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        command = [
            str(local_cluster.kubectl),
            f"--kubeconfig={local_cluster.kubeconfig}",
            f"--context={local_cluster.context}",
            *args,
        ]
        return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=120, check=False)

    namespace = f"chart-dry-run-{secrets.token_hex(4)}"
    # A dry-run create needs its namespace to exist for real.
    created = kubectl("create", "namespace", namespace)
    assert created.returncode == 0, created.stderr
    try:
        objects = render(VALUE_SETS[value_set], namespace=namespace)
        manifest = yaml.safe_dump_all(objects)
        result = kubectl(
            "create", "--dry-run=server", "--validate=strict", "--namespace", namespace, "-f", "-", stdin=manifest
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.count("(server dry run)") == len(objects), result.stdout
    finally:
        kubectl("delete", "namespace", namespace, "--wait=false")
