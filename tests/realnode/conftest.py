"""Fixtures for the tests that run pods on the local cluster's real node."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from kubernetes import client as k8s

from tests.realnode.workloads import Kit
from tests.support.cluster import LocalCluster, RealNode
from tests.support.kube import admin_api


@pytest.fixture(scope="module")
def kit(local_cluster: LocalCluster, real_node: RealNode) -> Iterator[Kit]:
    api = admin_api(local_cluster)
    yield Kit(cluster=local_cluster, node=real_node, core=k8s.CoreV1Api(api))
    api.close()


@pytest.fixture
def make_namespace(kit: Kit) -> Iterator[Callable[[str], str]]:
    """make_namespace(prefix) -> a new namespace, deleted after the test."""
    made: list[str] = []

    def make(prefix: str) -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:6]}"
        kit.core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name)))
        made.append(name)
        return name

    yield make
    for name in made:
        kit.delete_namespace(name)


@pytest.fixture
def namespace(make_namespace: Callable[[str], str]) -> str:
    return make_namespace("realnode")
