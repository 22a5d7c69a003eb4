"""The local cluster's real node: pods that opt in really run on this machine, with cluster
DNS, Services from the host and from pods, NetworkPolicy enforcement, and no way off the
machine."""

from __future__ import annotations

import platform
import subprocess
import uuid
from typing import Any

import pytest

from tests.realnode.workloads import Kit, http_get, wait_until

pytestmark = [pytest.mark.cluster, pytest.mark.realnode]

# Addresses off this machine: cloud metadata, and a public resolver.
OUTSIDE = [("169.254.169.254", 80), ("1.1.1.1", 443)]


def service(namespace: str, name: str, selector: dict[str, str], *, node_port: bool = False) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "type": "NodePort" if node_port else "ClusterIP",
            "selector": selector,
            "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}],
        },
    }


def test_only_pods_that_opt_in_run_on_the_real_node(kit: Kit, namespace: str) -> None:
    kit.pod(
        namespace,
        "proof",
        ["python3", "-c", "import os, platform; print('uid', os.getuid(), 'kernel', platform.release())"],
        restart="Never",
    )
    pod = kit.wait_phase(namespace, "proof", {"Succeeded", "Failed"})
    assert pod.status.phase == "Succeeded"
    assert pod.spec.node_name == kit.node.name
    # The process ran, as the image's user, on this machine's kernel.
    assert kit.core.read_namespaced_pod_log("proof", namespace).strip() == f"uid 1000 kernel {platform.release()}"

    # Selecting the node without tolerating its taint is not enough ...
    kit.pod(namespace, "no-toleration", ["true"], restart="Never", tolerate=False)

    def refused() -> str | None:
        for condition in kit.read_pod(namespace, "no-toleration").status.conditions or []:
            if condition.type == "PodScheduled" and condition.status == "False" and condition.reason == "Unschedulable":
                return str(condition.message)
        return None

    assert "untolerated taint" in wait_until("the scheduler to refuse the pod", refused, 30)

    # ... and a pod that does not opt in goes to a kwok node, as every other test's pods do.
    kit.pod(namespace, "kwok-pod", ["true"], restart="Never", opt_in=False, tolerate=False)
    placed = wait_until("the kwok pod to be scheduled", lambda: kit.read_pod(namespace, "kwok-pod").spec.node_name)
    assert placed != kit.node.name


def test_pods_resolve_service_names(kit: Kit, namespace: str) -> None:
    token = uuid.uuid4().hex
    kit.web_server(namespace, "web", token, labels={"app": "web"})
    kit.sleeper(namespace, "client")
    kit.apply(service(namespace, "echo", {"app": "web"}))
    cluster_ip = kit.core.read_namespaced_service("echo", namespace).spec.cluster_ip
    kit.wait_ready(namespace, "web", "client")

    for name in ("echo", f"echo.{namespace}", f"echo.{namespace}.svc", f"echo.{namespace}.svc.cluster.local"):
        assert kit.resolve(namespace, "client", name) == cluster_ip, name
    assert (
        kit.resolve(namespace, "client", "kubernetes.default")
        == kit.core.read_namespaced_service("kubernetes", "default").spec.cluster_ip
    )
    assert kit.resolve(namespace, "client", "no-such-service").startswith("gaierror")
    # By name, through the Service, to the other pod.
    assert wait_until("the Service to answer", lambda: kit.fetch(namespace, "client", "http://echo/") == token, 30)


def test_cluster_ip_and_node_port_answer_from_the_host(kit: Kit, namespace: str) -> None:
    token = uuid.uuid4().hex
    kit.web_server(namespace, "web", token, labels={"app": "web"})
    kit.apply(service(namespace, "web", {"app": "web"}, node_port=True))
    spec = kit.core.read_namespaced_service("web", namespace).spec
    kit.wait_ready(namespace, "web")

    # kube-proxy may need a moment after the pod is Ready.
    for url in (f"http://{spec.cluster_ip}/", f"http://{kit.node.ip}:{spec.ports[0].node_port}/"):
        answer = wait_until(f"{url} to answer", lambda url=url: http_get(url), 30)
        assert answer == (200, token), url


def test_network_policy_denies_then_allows(kit: Kit, namespace: str) -> None:
    token = uuid.uuid4().hex
    kit.web_server(namespace, "web", token, labels={"app": "web"})
    kit.sleeper(namespace, "client", labels={"role": "client"})
    kit.sleeper(namespace, "other", labels={"role": "other"})
    kit.wait_ready(namespace, "web", "client", "other")
    web_ip = kit.read_pod(namespace, "web").status.pod_ip

    def reaches(pod: str) -> bool:
        return kit.connect(namespace, pod, web_ip, 8080, timeout=1.0) == "connected"

    assert wait_until("client to reach web without policies", lambda: reaches("client"), 30)
    assert reaches("other")

    kit.apply(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "default-deny", "namespace": namespace},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
        }
    )
    wait_until("the default-deny policy to block client", lambda: not reaches("client"), 30)
    assert not reaches("other")

    kit.apply(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "client-to-web", "namespace": namespace},
            "spec": {
                "podSelector": {"matchLabels": {"app": "web"}},
                "policyTypes": ["Ingress"],
                "ingress": [
                    {"from": [{"podSelector": {"matchLabels": {"role": "client"}}}], "ports": [{"port": 8080}]}
                ],
            },
        }
    )
    wait_until("the allow policy to let client through", lambda: reaches("client"), 30)
    assert kit.fetch(namespace, "client", f"http://{web_ip}:8080/") == token
    assert not reaches("other")


def guard_drops(kit: Kit) -> int:
    """Packets the harness's guard chain dropped on their way off the machine."""
    listing = subprocess.run(
        ["iptables", "-w", "-t", "mangle", "-L", kit.node.guard_chain, "-n", "-v", "-x"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    return sum(int(line.split()[0]) for line in listing.splitlines() if "leaving the machine" in line)


def test_pods_cannot_reach_anything_off_the_machine(kit: Kit, namespace: str) -> None:
    # Before sending anything: the guard is in place, first in mangle FORWARD.
    forward = subprocess.run(
        ["iptables", "-w", "-t", "mangle", "-S", "FORWARD"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    assert f"-A FORWARD -j {kit.node.guard_chain}" in forward.splitlines()
    kit.sleeper(namespace, "client")
    kit.wait_ready(namespace, "client")
    dropped_before = guard_drops(kit)

    for host, port in OUTSIDE:
        outcome = kit.connect(namespace, "client", host, port, timeout=2.0)
        assert outcome != "connected", f"a pod reached {host}:{port}"

    # Refused by the guard on this machine, not by anything out there.
    assert guard_drops(kit) >= dropped_before + len(OUTSIDE)


def test_status_reports_the_node_and_its_images(kit: Kit) -> None:
    node = kit.core.read_node(kit.node.name)
    assert node.metadata.labels[kit.node.label[0]] == kit.node.label[1]
    taints = [(t.key, t.value, t.effect) for t in node.spec.taints or []]
    assert kit.node.taint in taints
    assert {a.type: a.address for a in node.status.addresses}["InternalIP"] == kit.node.ip
    assert node.status.node_info.kubelet_version == "v1.34.10"
    names = {name for image in node.status.images or [] for name in image.names or []}
    assert set(kit.node.images.values()) <= names
    # kwok leaves the node to its kubelet.
    assert "kwok.x-k8s.io/node" not in (node.metadata.annotations or {})
