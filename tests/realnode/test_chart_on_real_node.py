"""charts/jupyterhub on the real node: installed with Helm, a browser logs in through the
proxy's NodePort, KubeSpawner starts a real user server with a real volume, JupyterLab
answers, files survive a restart, the bot's token reads activity, the NetworkPolicies
hold, and uninstalling leaves no volume behind.

One environment is installed once for the module; the tests run in file order against it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import yaml

from tests.realnode.hubs import ADMIN, HubUser, api_token, assert_fenced_in, follow, pods_on_node
from tests.realnode.workloads import Kit, http_get, wait_until
from tests.support.hub import CHART_DIR, HubSecrets, HubSession

pytestmark = [pytest.mark.cluster, pytest.mark.realnode]

RELEASE = "lab"
INSTALL_TIMEOUT = "5m"


@dataclass
class Environment:
    namespace: str
    secrets: HubSecrets
    base_url: str  # http://<node ip>:<proxy node port>/
    install_seconds: float
    admin: HubUser = field(init=False)  # its token is made once logged in

    def __post_init__(self) -> None:
        self.admin = HubUser(self.base_url, self.namespace)


def values_for(kit: Kit, secrets: HubSecrets) -> dict[str, Any]:
    """The chart's values with the local images, scheduled onto the real node."""
    images = kit.node.images
    values: dict[str, Any] = secrets.values()
    for component, key in (("hub", "hub"), ("proxy", "proxy"), ("singleuser", "singleuser")):
        name, _, tag = images[key].rpartition(":")
        values.setdefault(component, {})["image"] = {"name": name, "tag": tag}
    values["scheduling"] = {"nodeSelector": kit.node.node_selector, "tolerations": kit.node.tolerations}
    values["singleuser"].update({"cpu": {"guarantee": 0.1, "limit": 1}, "storage": {"size": "1Gi"}})
    values["cull"] = {"enabled": True, "timeout": 3600, "every": 300}
    return values


@pytest.fixture(scope="module")
def environment(kit: Kit, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Environment]:
    namespace = f"env-{uuid.uuid4().hex[:6]}"
    secrets = HubSecrets.generate()
    values_file = tmp_path_factory.mktemp("values") / "values.yaml"
    values_file.write_text(yaml.safe_dump(values_for(kit, secrets)))
    values_file.chmod(0o600)

    started = time.monotonic()
    proc = kit.helm(
        "install", RELEASE, str(CHART_DIR), "--namespace", namespace, "--create-namespace",
        "--values", str(values_file), "--wait", "--timeout", INSTALL_TIMEOUT,
    )  # fmt: skip
    install_seconds = time.monotonic() - started
    try:
        assert proc.returncode == 0, f"helm install failed:\n{proc.stderr}"
        print(f"\n[real node] helm install --wait of charts/jupyterhub: {install_seconds:.1f}s")
        public = kit.core.read_namespaced_service(f"{RELEASE}-proxy-public", namespace)
        base_url = f"http://{kit.node.ip}:{public.spec.ports[0].node_port}/"
        yield Environment(namespace, secrets, base_url, install_seconds)
    finally:
        kit.helm("uninstall", RELEASE, "--namespace", namespace, "--wait", "--timeout", "2m")
        kit.delete_namespace(namespace)


def test_hub_and_proxy_run_on_the_real_node(kit: Kit, environment: Environment) -> None:
    placed = pods_on_node(kit, environment.namespace)
    assert len(placed) == 2, placed
    assert set(placed.values()) == {kit.node.name}
    claim = kit.core.read_namespaced_persistent_volume_claim(f"{RELEASE}-hub-db", environment.namespace)
    assert claim.status.phase == "Bound"


def test_login_page_through_the_node_port(environment: Environment) -> None:
    answer = wait_until("the login page", lambda: http_get(f"{environment.base_url}hub/login"), 60)
    status, body = answer
    assert status == 200
    assert 'name="_xsrf"' in body
    assert "JupyterHub" in body


def test_admin_password_logs_in_and_a_wrong_one_is_refused(environment: Environment) -> None:
    refused = HubSession(environment.base_url).login(ADMIN, "not-the-password-" + "x" * 20)
    assert refused.status == 403

    session = HubSession(environment.base_url)
    answer = session.login(ADMIN, environment.secrets.admin_password)
    assert answer.status == 302, answer.text[:500]
    assert answer.header("location") is not None
    assert session.cookie("jupyterhub-hub-login")

    environment.admin.token = api_token(session)


def test_spawn_a_user_server_with_a_volume(kit: Kit, environment: Environment) -> None:
    started = time.monotonic()
    environment.admin.start_server()
    print(f"\n[real node] user server ready {time.monotonic() - started:.1f}s after the spawn request")
    pod = kit.read_pod(environment.namespace, f"jupyter-{ADMIN}")
    assert pod.spec.node_name == kit.node.name
    assert pod.status.phase == "Running"
    assert pod.spec.containers[0].image == kit.node.images["singleuser"]
    claim = kit.core.read_namespaced_persistent_volume_claim(f"claim-{ADMIN}", environment.namespace)
    assert claim.status.phase == "Bound"
    assert claim.spec.volume_name
    volume = kit.core.read_persistent_volume(claim.spec.volume_name)
    assert volume.spec.claim_ref.name == f"claim-{ADMIN}"


def test_jupyterlab_answers_through_the_proxy(environment: Environment) -> None:
    session = HubSession(environment.base_url)
    assert session.login(ADMIN, environment.secrets.admin_password).status == 302
    status, final, body = follow(session, f"user/{ADMIN}/lab")
    assert status == 200, (final, body[:500])
    assert final.startswith(f"user/{ADMIN}/lab")
    assert "JupyterLab" in body


def test_a_file_survives_a_server_restart(kit: Kit, environment: Environment) -> None:
    text = f"written on the real node {uuid.uuid4().hex}"
    admin = environment.admin
    saved = admin.contents("proof.txt", method="PUT", body={"type": "file", "format": "text", "content": text})
    assert saved.status in (200, 201), saved.text

    admin.stop_server(kit)
    admin.start_server()

    read = admin.contents("proof.txt")
    assert read.status == 200, read.text
    assert read.json()["content"] == text


def test_bot_token_reads_last_activity(environment: Environment) -> None:
    answer = environment.admin.call(f"hub/api/users/{ADMIN}", token=environment.secrets.bot_api_token)
    assert answer.status == 200, answer.text
    user = answer.json()
    assert user["last_activity"]
    assert user["servers"][""]["last_activity"]
    refused = environment.admin.call(
        f"hub/api/users/{ADMIN}/server", method="DELETE", token=environment.secrets.bot_api_token
    )
    assert refused.status == 403


def test_network_policies_isolate_the_environment(kit: Kit, environment: Environment, make_namespace: Any) -> None:
    # A pod of another namespace, even one labelled like this environment's user servers.
    assert_fenced_in(kit, environment.namespace, RELEASE, make_namespace("env-other"))


def test_uninstall_leaves_no_volume_behind(kit: Kit, environment: Environment) -> None:
    namespace = environment.namespace
    volumes = {c.spec.volume_name for c in kit.core.list_namespaced_persistent_volume_claim(namespace).items}
    assert len(volumes) == 2, volumes  # the hub database and the user's home

    proc = kit.helm("uninstall", RELEASE, "--namespace", namespace, "--wait", "--timeout", "2m")
    assert proc.returncode == 0, proc.stderr
    kit.delete_namespace(namespace)

    def gone() -> bool:
        names = {pv.metadata.name for pv in kit.core.list_persistent_volume().items}
        return not (volumes & names) and namespace not in {n.metadata.name for n in kit.core.list_namespace().items}

    wait_until("the namespace and its volumes to be deleted", gone, 180, interval=1)
    claimed_from_it = [
        pv.metadata.name
        for pv in kit.core.list_persistent_volume().items
        if pv.spec.claim_ref and pv.spec.claim_ref.namespace == namespace
    ]
    assert not claimed_from_it
