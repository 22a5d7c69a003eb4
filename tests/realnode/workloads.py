"""Pods on the local cluster's real node, and probes run inside them.

Test pods use the local single-user image, which has Python: a pod can serve HTTP,
resolve names and try connections with a few lines of it. Probes run through
``kubectl exec``, so they also prove that the API server reaches the kubelet.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from bot.helm.chart import LABEL_INSTALLATION
from tests.support.cluster import LocalCluster, RealNode

__all__ = ["HTTP_SERVER", "Kit", "http_get", "wait_until"]

T = TypeVar("T")

# A tiny HTTP server answering every GET with $TOKEN, so an answer proves which pod it came from.
HTTP_SERVER = """
import http.server, os
token = os.environ["TOKEN"].encode()
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(token)))
        self.end_headers()
        self.wfile.write(token)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("", 8080), Handler).serve_forever()
"""

# Prints "connected" or the reason it could not (timeout, refused, ...).
CONNECT_PROBE = """
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3])).close()
    print("connected")
except OSError as exc:
    print(type(exc).__name__, exc)
"""


def wait_until(what: str, check: Callable[[], T | None], timeout: float = 60.0, interval: float = 0.25) -> T:
    """Polls check until it returns something truthy; returns that."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)  # wait-ok: polling with a deadline


def http_get(url: str, timeout: float = 3.0) -> tuple[int, str] | None:
    """(status, body) of a GET, or None if nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")
    except OSError:
        return None


@dataclass(frozen=True)
class Kit:
    """The cluster, its real node and a client, with the few moves the tests make."""

    cluster: LocalCluster
    node: RealNode
    core: k8s.CoreV1Api

    def kubectl(self, *args: str, timeout: float = 60, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        cluster = self.cluster
        base = [str(cluster.kubectl), "--kubeconfig", str(cluster.kubeconfig), "--context", cluster.context]
        return subprocess.run(
            [*base, *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def helm(self, *args: str, timeout: float = 400) -> subprocess.CompletedProcess[str]:
        """The cluster's helm, as its admin."""
        cluster = self.cluster
        return subprocess.run(
            [str(cluster.helm), "--kube-context", cluster.context, *args],
            env={**os.environ, "KUBECONFIG": str(cluster.kubeconfig)},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def pod(
        self,
        namespace: str,
        name: str,
        args: list[str],
        *,
        labels: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
        restart: str = "Always",
        opt_in: bool = True,
        tolerate: bool = True,
        ready_port: int | None = None,
    ) -> None:
        """Creates a pod of the single-user image running ``args`` (under its tini), within Pod
        Security's restricted level, so it may also run in an environment's namespace."""
        probe = None
        if ready_port is not None:
            probe = k8s.V1Probe(tcp_socket=k8s.V1TCPSocketAction(port=ready_port), period_seconds=1)
        spec = k8s.V1PodSpec(
            restart_policy=restart,
            termination_grace_period_seconds=1,
            automount_service_account_token=False,
            security_context=k8s.V1PodSecurityContext(
                run_as_non_root=True, seccomp_profile=k8s.V1SeccompProfile(type="RuntimeDefault")
            ),
            node_selector=self.node.node_selector if opt_in else None,
            tolerations=[k8s.V1Toleration(**t) for t in self.node.tolerations] if tolerate else None,
            containers=[
                k8s.V1Container(
                    name="main",
                    image=self.node.images["singleuser"],
                    image_pull_policy="Never",
                    args=args,
                    env=[k8s.V1EnvVar(name=k, value=v) for k, v in (env or {}).items()],
                    readiness_probe=probe,
                    resources=k8s.V1ResourceRequirements(
                        requests={"cpu": "10m", "memory": "32Mi"}, limits={"memory": "256Mi"}
                    ),
                    security_context=k8s.V1SecurityContext(
                        allow_privilege_escalation=False, capabilities=k8s.V1Capabilities(drop=["ALL"])
                    ),
                )
            ],
        )
        self.core.create_namespaced_pod(
            namespace, k8s.V1Pod(metadata=k8s.V1ObjectMeta(name=name, labels=dict(labels or {})), spec=spec)
        )

    def sleeper(self, namespace: str, name: str, labels: Mapping[str, str] | None = None) -> None:
        # wait-ok: the pod's own command, which keeps its container running
        self.pod(namespace, name, ["python3", "-c", "import time; time.sleep(10**6)"], labels=labels)

    def web_server(self, namespace: str, name: str, token: str, labels: Mapping[str, str] | None = None) -> None:
        self.pod(namespace, name, ["python3", "-c", HTTP_SERVER], labels=labels, env={"TOKEN": token}, ready_port=8080)

    def read_pod(self, namespace: str, name: str) -> Any:
        return self.core.read_namespaced_pod(name, namespace)

    def wait_ready(self, namespace: str, *names: str, timeout: float = 120) -> None:
        for name in names:

            def ready(pod_name: str = name) -> bool:
                conditions = self.read_pod(namespace, pod_name).status.conditions or []
                return any(c.type == "Ready" and c.status == "True" for c in conditions)

            wait_until(f"pod {namespace}/{name} to be Ready", ready, timeout)

    def wait_phase(self, namespace: str, name: str, phases: set[str], timeout: float = 120) -> Any:
        def reached() -> Any:
            pod = self.read_pod(namespace, name)
            return pod if pod.status.phase in phases else None

        return wait_until(f"pod {namespace}/{name} to reach {sorted(phases)}", reached, timeout)

    def exec_python(self, namespace: str, pod: str, code: str, *args: str, timeout: float = 30) -> str:
        proc = self.kubectl("exec", "-n", namespace, pod, "--", "python3", "-c", code, *args, timeout=timeout)
        assert proc.returncode == 0, f"kubectl exec in {namespace}/{pod} failed: {proc.stderr}"
        return proc.stdout.strip()

    def connect(self, namespace: str, pod: str, host: str, port: int, timeout: float = 2.0) -> str:
        """From inside the pod: 'connected', or why a TCP connection failed."""
        return self.exec_python(namespace, pod, CONNECT_PROBE, host, str(port), str(timeout))

    def resolve(self, namespace: str, pod: str, name: str) -> str:
        """From inside the pod: the address NAME resolves to, or the error."""
        code = (
            "import socket, sys\n"
            "try:\n    print(socket.gethostbyname(sys.argv[1]))\n"
            "except OSError as exc:\n    print(type(exc).__name__, exc)"
        )
        return self.exec_python(namespace, pod, code, name)

    def fetch(self, namespace: str, pod: str, url: str) -> str:
        """From inside the pod: the body of a GET, or why it failed."""
        code = (
            "import sys, urllib.request\n"
            "try:\n    print(urllib.request.urlopen(sys.argv[1], timeout=3).read().decode())\n"
            "except OSError as exc:\n    print(type(exc).__name__, exc)"
        )
        return self.exec_python(namespace, pod, code, url)

    def apply(self, manifest: Mapping[str, Any]) -> None:
        proc = self.kubectl("apply", "-f", "-", stdin=json.dumps(manifest))
        assert proc.returncode == 0, f"kubectl apply failed: {proc.stderr}"

    def delete_namespace(self, name: str) -> None:
        try:
            self.core.delete_namespace(name, grace_period_seconds=0)
        except ApiException as exc:
            if exc.status != 404:
                raise

    def installation_namespaces(self, installation: str) -> set[str]:
        """Namespaces a bot with ``INSTALLATION_ID`` ``installation`` made and still has."""
        selector = f"{LABEL_INSTALLATION}={installation}"
        return {ns.metadata.name for ns in self.core.list_namespace(label_selector=selector).items}

    def remove_installation(self, installation: str) -> None:
        """Deletes what such a bot left behind (without waiting for it to go)."""
        for name in self.installation_namespaces(installation):
            self.delete_namespace(name)
