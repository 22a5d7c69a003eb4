from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.core.environment import Target
from bot.core.policy import ClusterSpec, Profile
from bot.core.ports import HubRequest
from bot.helm.chart import ApiServer, HubSecrets, build_values, ingress_host, namespace_labels


def _request(
    *, environment_id: str, owner_id: str, name: str, namespace: str, profile: Profile, cluster: ClusterSpec, idle: int
) -> HubRequest:
    return HubRequest(
        environment_id=environment_id,
        owner_id=owner_id,
        name=name,
        target=Target(cluster="dev", namespace=namespace, release=namespace),
        profile=profile,
        cluster=cluster,
        idle_timeout=timedelta(seconds=idle),
    )


def test_values_for_a_node_port_cluster_hold_no_credential() -> None:
    request = _request(
        environment_id="abc123",
        owner_id="U0STUDENT",
        name="lab",
        namespace="jh-lab-abc123",
        profile=Profile(image="quay.io/jupyter/minimal-notebook:2025-06-30", cpu="2", memory="4Gi", storage="5Gi"),
        cluster=ClusterSpec(),
        idle=7200,
    )
    values = build_values(request, installation="platform.jupyterhub-bot", api_server=ApiServer(("10.0.0.5",), (6443,)))
    assert values == {
        "hub": {
            "adminUser": "admin",
            "existingSecret": "jh-lab-abc123-hub-credentials",
            "db": {"pvc": {"enabled": True, "size": "1Gi", "storageClassName": ""}},
        },
        "proxy": {"service": {"type": "NodePort"}},
        "ingress": {"enabled": False, "host": "", "className": "", "tls": {"enabled": False}, "annotations": {}},
        "singleuser": {
            "image": {"name": "quay.io/jupyter/minimal-notebook", "tag": "2025-06-30"},
            "cpu": {"guarantee": 1.0, "limit": 2.0},
            "memory": {"guarantee": "2Gi", "limit": "4Gi"},
            "storage": {"enabled": True, "size": "5Gi", "storageClassName": ""},
        },
        "quota": {"enabled": True, "maxUserServers": 5},
        "cull": {"enabled": True, "timeout": 7200, "every": 300},
        "networkPolicy": {"apiServer": {"addresses": ["10.0.0.5"], "ports": [6443]}},
        # Labels that never change in a hub's life: whose it is lives on its namespace.
        "labels": {
            "app.kubernetes.io/managed-by": "jupyterhub-bot",
            "jupyterhub-bot.io/installation": "platform.jupyterhub-bot",
        },
    }


def _small_request(*, owner_id: str = "U1", pool: str | None = None) -> HubRequest:
    return HubRequest(
        environment_id="abc123",
        owner_id=owner_id,
        name="lab",
        target=Target(cluster="dev", namespace="jh-lab-abc123", release="jh-lab-abc123"),
        profile=Profile(image="quay.io/jupyter/minimal-notebook:2025-06-30", cpu="1", memory="1Gi"),
        cluster=ClusterSpec(),
        idle_timeout=timedelta(hours=1),
        pool=pool,
    )


def test_environment_namespaces_enforce_pod_security_restricted() -> None:
    labels = namespace_labels(_small_request(), "platform.jupyterhub-bot")
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["pod-security.kubernetes.io/enforce-version"] == "latest"
    assert labels["jupyterhub-bot.io/installation"] == "platform.jupyterhub-bot"


def test_the_namespace_says_whose_hub_it_is_and_a_pool_hub_is_nobodys() -> None:
    owned = namespace_labels(_small_request(owner_id="U0STUDENT"), "i")
    assert owned["jupyterhub-bot.io/owner"] == "u0student"
    assert owned["jupyterhub-bot.io/environment-id"] == "abc123"
    assert owned["jupyterhub-bot.io/pool"] is None  # removed when a pool's hub changes hands
    pooled = namespace_labels(_small_request(owner_id="@pool", pool="course"), "i")
    assert pooled["jupyterhub-bot.io/pool"] == "course"
    assert pooled["jupyterhub-bot.io/owner"] is None


def test_a_cluster_can_size_what_each_hub_and_proxy_reserve() -> None:
    request = _small_request()
    assert "resources" not in build_values(request, installation="i")["hub"]  # the chart's defaults
    sized = replace(request, cluster=ClusterSpec.model_validate({"hub_requests": {"cpu": "20m", "memory": "160Mi"}}))
    values = build_values(sized, installation="i")
    assert values["hub"]["resources"] == {"requests": {"cpu": "20m", "memory": "160Mi"}}
    assert values["proxy"]["resources"] == {"requests": {"cpu": "20m", "memory": "160Mi"}}


def test_ingress_when_the_cluster_has_a_base_domain() -> None:
    cluster = ClusterSpec.model_validate(
        {
            "base_domain": "hubs.example.com",
            "ingress_class": "nginx",
            "tls": {"mode": "cert-manager", "issuer": "letsencrypt"},
            "ingress_annotations": {"nginx.ingress.kubernetes.io/proxy-body-size": "1g"},
            "images": {"hub": "mirror.example/k8s-hub:4.4.0"},
            "scheduling": {"node_selector": {"pool": "hubs"}},
        }
    )
    assert ingress_host("lab", "jh-lab-abc123", cluster) == "lab-abc123.hubs.example.com"
    request = _request(
        environment_id="abc123",
        owner_id="U1",
        name="lab",
        namespace="jh-lab-abc123",
        profile=Profile(image="i:1", cpu="500m", memory="1Gi", storage=None),
        cluster=cluster,
        idle=60,
    )
    values = build_values(request, installation="i")
    assert values["ingress"] == {
        "enabled": True,
        "host": "lab-abc123.hubs.example.com",
        "className": "nginx",
        "tls": {"enabled": True, "secretName": "jh-lab-abc123-tls"},
        # The cluster's own annotation wins over the nginx default.
        "annotations": {
            "nginx.ingress.kubernetes.io/proxy-body-size": "1g",
            "cert-manager.io/cluster-issuer": "letsencrypt",
        },
    }
    assert values["networkPolicy"] == {}
    assert values["hub"]["image"] == {"name": "mirror.example/k8s-hub", "tag": "4.4.0"}
    assert values["scheduling"] == {"nodeSelector": {"pool": "hubs"}, "tolerations": []}
    assert values["proxy"]["service"]["type"] == "ClusterIP"
    assert values["singleuser"]["cpu"] == {"guarantee": 0.25, "limit": 0.5}
    assert values["singleuser"]["storage"]["enabled"] is False


def test_generated_secrets_are_long_distinct_and_never_printed() -> None:
    one, two = HubSecrets.generate(), HubSecrets.generate()
    assert len(one.admin_password) >= 32 and one.admin_password != two.admin_password
    assert one.admin_password not in repr(one) and one.admin_password not in str(one)


def test_access_binding_grants_the_environment_role_in_one_namespace_only() -> None:
    from bot.helm.deployer import EnvironmentAccess, access_binding

    binding = access_binding(
        "jh-lab-abc123", EnvironmentAccess("jupyterhub-bot-environment", "platform", "jupyterhub-bot"), {"a": "b"}
    )
    assert binding == {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "jupyterhub-bot", "namespace": "jh-lab-abc123", "labels": {"a": "b"}},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": "jupyterhub-bot-environment",
        },
        "subjects": [{"kind": "ServiceAccount", "name": "jupyterhub-bot", "namespace": "platform"}],
    }
