"""A hub on the real node, seen from outside: its REST API with a user's token, the user's
server started and stopped, files in it, and a browser following the OAuth dance.

Shared by the chart's proof (Helm by hand) and the bot's (a hub the bot launched).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from tests.realnode.workloads import Kit, wait_until
from tests.support.hub import HttpResponse, HubSession

__all__ = ["ADMIN", "HubUser", "api_token", "assert_fenced_in", "follow", "pods_on_node"]

ADMIN = "admin"


def pods_on_node(kit: Kit, namespace: str) -> dict[str, str]:
    """Each pod of ``namespace`` and the node it runs on."""
    return {pod.metadata.name: pod.spec.node_name for pod in kit.core.list_namespaced_pod(namespace).items}


def api_token(session: HubSession, user: str = ADMIN) -> str:
    """A new API token of ``user``, asked for with a logged-in browser's cookie and xsrf token."""
    made = session.request("POST", f"hub/api/users/{user}/tokens")
    assert made.status == 201, made.text
    return str(made.json()["token"])


def follow(session: HubSession, path: str, hops: int = 10) -> tuple[int, str, str]:
    """GET with redirects followed inside the session (the OAuth dance); (status, final path, body)."""
    for _ in range(hops):
        answer = session.get(path)
        location = answer.header("location")
        if answer.status not in (301, 302, 303, 307) or not location:
            return answer.status, path, answer.text
        path = urllib.parse.urljoin(urllib.parse.urljoin(session.base_url, path), location)
        path = urllib.parse.urlsplit(path)._replace(scheme="", netloc="").geturl().lstrip("/")
    raise AssertionError(f"more than {hops} redirects from {path}")


@dataclass
class HubUser:
    """One user of the hub at ``base_url`` (http://<node ip>:<node port>/) in ``namespace``."""

    base_url: str
    namespace: str
    token: str = ""  # an API token of the user's, once logged in
    name: str = ADMIN

    def call(self, path: str, *, method: str = "GET", body: Any = None, token: str = "") -> HttpResponse:
        """A REST call with the user's token (or ``token``); the hub may hold a spawn request for 10 s."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"token {token or self.token}", "Content-Type": "application/json"}
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                headers = {k.lower(): v for k, v in response.headers.items()}
                return HttpResponse(response.status, headers, response.read())
        except urllib.error.HTTPError as error:
            with error:
                return HttpResponse(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())

    def model(self) -> dict[str, Any]:
        answer = self.call(f"hub/api/users/{self.name}")
        assert answer.status == 200, answer.text
        model: dict[str, Any] = answer.json()
        return model

    def server_ready(self) -> bool:
        server = self.model().get("servers", {}).get("")
        return bool(server and server.get("ready"))

    @property
    def server_pod(self) -> str:
        """KubeSpawner's name for the user's default server pod."""
        return f"jupyter-{self.name}"

    @property
    def home_claim(self) -> str:
        return f"claim-{self.name}"

    def start_server(self) -> None:
        answer = self.call(f"hub/api/users/{self.name}/server", method="POST")
        assert answer.status in (201, 202), answer.text
        wait_until("the user server to be ready", self.server_ready, 300, interval=1)

    def stop_server(self, kit: Kit) -> None:
        answer = self.call(f"hub/api/users/{self.name}/server", method="DELETE")
        assert answer.status in (202, 204), answer.text

        def stopped() -> bool:
            return not self.server_ready() and self.server_pod not in pods_on_node(kit, self.namespace)

        wait_until("the user server to stop", stopped, 120, interval=1)

    def contents(self, path: str, *, method: str = "GET", body: Any = None) -> HttpResponse:
        """Jupyter Server's contents API of the user's server, through the proxy."""
        return self.call(f"user/{self.name}/api/contents/{path}", method=method, body=body)


def assert_fenced_in(kit: Kit, namespace: str, release: str, intruder_namespace: str, user: str = ADMIN) -> None:
    """The NetworkPolicies of the hub ``release`` in ``namespace`` hold, with ``user``'s server
    running: a pod of ``intruder_namespace``, labelled like that server, reaches the public
    proxy but neither the hub nor the user server; the user server reaches its hub but not
    the Kubernetes API (its Service or its real address) or cloud metadata."""
    user_pod = f"jupyter-{user}"
    user_ip = kit.read_pod(namespace, user_pod).status.pod_ip
    hub_ip = kit.core.read_namespaced_service(f"{release}-hub", namespace).spec.cluster_ip
    proxy_ip = kit.core.read_namespaced_service(f"{release}-proxy-public", namespace).spec.cluster_ip

    labels = dict(kit.read_pod(namespace, user_pod).metadata.labels)
    kit.sleeper(intruder_namespace, "intruder", labels=labels)
    kit.wait_ready(intruder_namespace, "intruder")

    # Its network works (the public proxy port is open to all) ...
    def reaches_proxy() -> bool:
        return kit.connect(intruder_namespace, "intruder", proxy_ip, 80) == "connected"

    assert wait_until("the intruder to reach the public proxy", reaches_proxy, 30)
    # ... but neither the hub nor the user server answer it.
    assert kit.connect(intruder_namespace, "intruder", hub_ip, 8081) != "connected"
    assert kit.connect(intruder_namespace, "intruder", user_ip, 8888) != "connected"

    # The user server reaches its hub, but not the Kubernetes API or cloud metadata.
    health = kit.fetch(namespace, user_pod, f"http://{release}-hub:8081/hub/health")
    assert "TimeoutError" not in health and "URLError" not in health, health
    api = kit.core.read_namespaced_service("kubernetes", "default").spec.cluster_ip
    for host, port in ((api, 443), (kit.node.ip, 6443), ("169.254.169.254", 80)):
        assert kit.connect(namespace, user_pod, host, port) != "connected", f"the user server reached {host}:{port}"
