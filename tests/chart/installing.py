"""Installing the chart on the local cluster: helm with values on stdin, throwaway namespaces."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from secrets import token_hex
from typing import Any

from kubernetes import client as k8s

from tests.support.cluster import LocalCluster

__all__ = ["helm", "kubectl", "temporary_namespace"]


def helm(cluster: LocalCluster, *args: str, values: Mapping[str, Any] | None = None) -> str:
    """Run the cluster's helm (values, if any, on stdin: pass ``-f -``); return stdout."""
    done = subprocess.run(
        [str(cluster.helm), *args, "--kubeconfig", str(cluster.kubeconfig), "--kube-context", cluster.context],
        input=json.dumps(values) if values is not None else None,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def kubectl(cluster: LocalCluster, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the cluster's kubectl as its admin; the caller checks the outcome."""
    command = [str(cluster.kubectl), f"--kubeconfig={cluster.kubeconfig}", f"--context={cluster.context}", *args]
    return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=120, check=False)


@contextmanager
def temporary_namespace(api: k8s.ApiClient, prefix: str, labels: Mapping[str, str] | None = None) -> Iterator[str]:
    """A new namespace, deleted (without waiting) on exit."""
    core = k8s.CoreV1Api(api)
    name = f"{prefix}-{token_hex(3)}"
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name, labels=dict(labels or {}))))
    try:
        yield name
    finally:
        core.delete_namespace(name)
