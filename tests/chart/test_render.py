"""What the chart renders, for several value sets: names, scope, secrets, isolation, quota."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from traitlets.config.loader import PyFileConfigLoader

from tests.chart.conftest import Objects, Render, uses_existing_secret
from tests.chart.value_sets import (
    EXISTING_SECRET,
    INGRESS_DEFAULT_CERTIFICATE,
    INGRESS_PLAIN,
    INGRESS_TLS,
    LARGE_PROFILE,
    NO_ISOLATION,
    NO_STORAGE,
    VALUE_SETS,
)
from tests.support.helm import assert_schema_refuses
from tests.support.hub import HelmError, HubSecrets, decode_secret, hub_config_files

NAMESPACE = "env-ns"

# Every kind the chart may render; all of them are namespaced.
NAMESPACED_KINDS = {
    "ConfigMap",
    "Deployment",
    "Ingress",
    "LimitRange",
    "NetworkPolicy",
    "PersistentVolumeClaim",
    "ResourceQuota",
    "Role",
    "RoleBinding",
    "Secret",
    "Service",
    "ServiceAccount",
}


def index(objects: Objects) -> dict[tuple[str, str], dict[str, Any]]:
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for obj in objects:
        key = (obj["kind"], obj["metadata"]["name"])
        assert key not in found, f"{key} rendered twice"
        found[key] = obj
    return found


def get(objects: Objects, kind: str, name: str) -> dict[str, Any]:
    found = index(objects)
    assert (kind, name) in found, f"no {kind} {name}; rendered: {sorted(found)}"
    return found[(kind, name)]


def kinds(objects: Objects, kind: str) -> list[dict[str, Any]]:
    return [obj for obj in objects if obj["kind"] == kind]


def settings(objects: Objects) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(hub_config_files(objects)["settings.json"])
    return parsed


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers: list[dict[str, Any]] = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


# --- every value set -----------------------------------------------------------


@pytest.fixture(scope="module", params=sorted(VALUE_SETS))
def rendered(request: pytest.FixtureRequest, render: Render) -> tuple[str, Objects]:
    name: str = request.param
    return name, render(VALUE_SETS[name], release="env", namespace=NAMESPACE)


def test_only_namespaced_kinds_all_in_the_release_namespace(rendered: tuple[str, Objects]) -> None:
    _, objects = rendered
    for obj in objects:
        assert obj["kind"] in NAMESPACED_KINDS, f"{obj['kind']} is not an allowed namespaced kind"
        assert obj["metadata"]["namespace"] == NAMESPACE


def credentials_secret(name: str) -> str:
    """The Secret a value set's hub and proxy read their credentials from."""
    values = VALUE_SETS[name]
    fullname = values.get("fullnameOverride") or "env"
    return str(values["hub"]["existingSecret"]) if uses_existing_secret(values) else f"{fullname}-hub"


def test_fixed_names_the_bot_relies_on(rendered: tuple[str, Objects]) -> None:
    name, objects = rendered
    fullname = VALUE_SETS[name].get("fullnameOverride") or "env"
    if not uses_existing_secret(VALUE_SETS[name]):
        secret = get(objects, "Secret", f"{fullname}-hub")
        assert set(secret["data"]) == {"admin-password", "bot-api-token", "proxy-token"}
    public = get(objects, "Service", f"{fullname}-proxy-public")
    assert [(p["name"], p["port"]) for p in public["spec"]["ports"]] == [("http", 80)]
    hub = get(objects, "Service", f"{fullname}-hub")
    assert [p["port"] for p in hub["spec"]["ports"]] == [8081]
    api = get(objects, "Service", f"{fullname}-proxy-api")
    assert [p["port"] for p in api["spec"]["ports"]] == [8001]
    get(objects, "Deployment", f"{fullname}-hub")
    get(objects, "Deployment", f"{fullname}-proxy")
    get(objects, "ConfigMap", f"{fullname}-hub")


def test_secrets_only_in_the_secret(rendered: tuple[str, Objects], hub_secrets: HubSecrets) -> None:
    name, objects = rendered
    if uses_existing_secret(VALUE_SETS[name]):
        assert kinds(objects, "Secret") == [], "with hub.existingSecret the chart makes no Secret"
        return
    plain = [hub_secrets.admin_password, hub_secrets.bot_api_token, hub_secrets.proxy_token]
    encoded = [base64.b64encode(value.encode()).decode() for value in plain]
    secrets = kinds(objects, "Secret")
    assert len(secrets) == 1
    secret = secrets[0]
    assert decode_secret(secret, "admin-password") == hub_secrets.admin_password
    assert decode_secret(secret, "bot-api-token") == hub_secrets.bot_api_token
    assert decode_secret(secret, "proxy-token") == hub_secrets.proxy_token
    for obj in objects:
        if obj is secret:
            continue
        text = json.dumps(obj)
        for value in plain + encoded:
            assert value not in text, f"a secret leaked into {obj['kind']} {obj['metadata']['name']}"


def test_labels_in_layers(rendered: tuple[str, Objects]) -> None:
    name, objects = rendered
    extra = VALUE_SETS[name].get("labels", {})
    for obj in objects:
        labels = obj["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == "jupyterhub"
        assert labels["app.kubernetes.io/instance"] == "env"
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert labels["helm.sh/chart"].startswith("jupyterhub-")
        assert "app.kubernetes.io/component" in labels
        assert extra.items() <= labels.items()
    for deployment in kinds(objects, "Deployment"):
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert set(selector) == {
            "app.kubernetes.io/name",
            "app.kubernetes.io/instance",
            "app.kubernetes.io/component",
        }
        assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    for service in kinds(objects, "Service"):
        assert "helm.sh/chart" not in service["spec"]["selector"]
        assert "app.kubernetes.io/version" not in service["spec"]["selector"]


def test_images_are_pinned(rendered: tuple[str, Objects]) -> None:
    _, objects = rendered
    images = [container(d)["image"] for d in kinds(objects, "Deployment")]
    images.append(settings(objects)["kubernetes"]["singleuser"]["image"])
    for image in images:
        repository, _, tag = image.rpartition(":")
        assert repository and tag and tag != "latest", image


def test_hub_reads_secrets_from_the_secret(rendered: tuple[str, Objects]) -> None:
    name, objects = rendered
    fullname = VALUE_SETS[name].get("fullnameOverride") or "env"
    secret = credentials_secret(name)
    hub = container(get(objects, "Deployment", f"{fullname}-hub"))
    refs = {
        env["name"]: (env["valueFrom"]["secretKeyRef"]["name"], env["valueFrom"]["secretKeyRef"]["key"])
        for env in hub["env"]
        if "valueFrom" in env
    }
    assert refs == {
        "JUPYTERHUB_ADMIN_PASSWORD": (secret, "admin-password"),
        "JUPYTERHUB_BOT_API_TOKEN": (secret, "bot-api-token"),
        "CONFIGPROXY_AUTH_TOKEN": (secret, "proxy-token"),
    }
    proxy = container(get(objects, "Deployment", f"{fullname}-proxy"))
    assert proxy["env"][0]["valueFrom"]["secretKeyRef"] == {"name": secret, "key": "proxy-token"}


def test_hub_rbac_is_namespaced_and_minimal(rendered: tuple[str, Objects]) -> None:
    name, objects = rendered
    fullname = VALUE_SETS[name].get("fullnameOverride") or "env"
    role = get(objects, "Role", f"{fullname}-hub")
    granted = {(resource, verb) for rule in role["rules"] for resource in rule["resources"] for verb in rule["verbs"]}
    assert ("pods", "create") in granted
    assert ("persistentvolumeclaims", "create") in granted
    assert ("events", "list") in granted
    assert not {resource for resource, _ in granted} & {"secrets", "roles", "rolebindings", "namespaces"}
    assert all("*" not in rule["verbs"] and "*" not in rule["resources"] for rule in role["rules"])
    binding = get(objects, "RoleBinding", f"{fullname}-hub")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": f"{fullname}-hub"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": f"{fullname}-hub", "namespace": NAMESPACE}]
    hub = get(objects, "Deployment", f"{fullname}-hub")
    assert hub["spec"]["template"]["spec"]["serviceAccountName"] == f"{fullname}-hub"
    proxy = get(objects, "Deployment", f"{fullname}-proxy")
    assert proxy["spec"]["template"]["spec"]["automountServiceAccountToken"] is False


# --- particular value sets --------------------------------------------------------


def test_defaults(render: Render) -> None:
    objects = render({})
    public = get(objects, "Service", "env-proxy-public")
    assert public["spec"]["type"] == "NodePort"
    assert "nodePort" not in public["spec"]["ports"][0]
    assert not kinds(objects, "Ingress")
    claim = get(objects, "PersistentVolumeClaim", "env-hub-db")
    assert claim["spec"]["resources"]["requests"]["storage"] == "1Gi"
    assert "storageClassName" not in claim["spec"]
    hub = get(objects, "Deployment", "env-hub")
    volumes = {v["name"]: v for v in hub["spec"]["template"]["spec"]["volumes"]}
    assert volumes["data"]["persistentVolumeClaim"] == {"claimName": "env-hub-db"}
    assert hub["spec"]["strategy"]["type"] == "Recreate"
    single = settings(objects)["kubernetes"]["singleuser"]
    assert single["cpuGuarantee"] == 0.5
    assert single["cpuLimit"] == 1
    assert single["memGuarantee"] == 1024**3
    assert single["memLimit"] == 2 * 1024**3
    assert single["storage"] == {"enabled": True, "capacity": "10Gi", "storageClassName": ""}


def test_ingress_with_tls_from_a_named_secret(render: Render) -> None:
    objects = render(INGRESS_TLS)
    ingress = get(objects, "Ingress", "env")
    spec = ingress["spec"]
    assert spec["ingressClassName"] == "nginx"
    assert spec["tls"] == [{"hosts": ["alice-demo.hubs.example.org"], "secretName": "alice-demo-tls"}]
    (rule,) = spec["rules"]
    assert rule["host"] == "alice-demo.hubs.example.org"
    (path,) = rule["http"]["paths"]
    assert path["backend"]["service"] == {"name": "env-proxy-public", "port": {"name": "http"}}
    # Annotations pass through untouched: cert-manager's issuer, the controller's body limit.
    assert ingress["metadata"]["annotations"] == INGRESS_TLS["ingress"]["annotations"]
    assert get(objects, "Service", "env-proxy-public")["spec"]["type"] == "ClusterIP"


def test_ingress_with_tls_on_the_controllers_default_certificate(render: Render) -> None:
    ingress = get(render(INGRESS_DEFAULT_CERTIFICATE), "Ingress", "env")
    assert ingress["spec"]["tls"] == [{"hosts": ["bob-lab.hubs.example.org"]}]
    assert "annotations" not in ingress["metadata"]


def test_ingress_without_tls(render: Render) -> None:
    ingress = get(render(INGRESS_PLAIN), "Ingress", "env")
    assert "tls" not in ingress["spec"]
    assert ingress["spec"]["rules"][0]["host"] == "carol-lab.hubs.example.org"


def test_no_storage(render: Render) -> None:
    objects = render(NO_STORAGE)
    assert not kinds(objects, "PersistentVolumeClaim")
    hub = get(objects, "Deployment", "env-hub")
    volumes = {v["name"]: v for v in hub["spec"]["template"]["spec"]["volumes"]}
    assert volumes["data"] == {"name": "data", "emptyDir": {}}
    assert settings(objects)["kubernetes"]["singleuser"]["storage"] == {"enabled": False}
    quota = get(objects, "ResourceQuota", "env")["spec"]["hard"]
    assert quota["persistentvolumeclaims"] == "0"
    assert quota["requests.storage"] == "0"
    limit_types = [item["type"] for item in get(objects, "LimitRange", "env")["spec"]["limits"]]
    assert limit_types == ["Container"]


def test_default_quota_is_one_user_server_plus_hub_and_proxy(render: Render) -> None:
    objects = render({})
    hard = get(objects, "ResourceQuota", "env")["spec"]["hard"]
    # user 0.5/1 CPU, 1G/2G; hub and proxy take the LimitRange defaults 100m/1 CPU, 256Mi/1Gi.
    assert hard == {
        "pods": "3",
        "requests.cpu": "700m",
        "limits.cpu": "3",
        "requests.memory": "1536Mi",
        "limits.memory": "4Gi",
        "persistentvolumeclaims": "2",
        "requests.storage": "11Gi",
        "services": "3",
        "services.nodeports": "1",
        "services.loadbalancers": "0",
    }
    limits = get(objects, "LimitRange", "env")["spec"]["limits"]
    assert limits == [
        {
            "type": "Container",
            "defaultRequest": {"cpu": "100m", "memory": "256Mi"},
            "default": {"cpu": "1", "memory": "1Gi"},
            "max": {"cpu": "1", "memory": "2Gi"},
        },
        {"type": "PersistentVolumeClaim", "max": {"storage": "10Gi"}},
    ]


def test_large_profile(render: Render) -> None:
    objects = render(LARGE_PROFILE)
    hard = get(objects, "ResourceQuota", "big-lab")["spec"]["hard"]
    # 3 user servers of 4/8 CPU and 16G/32G, the hub at 500m/2 CPU and 1Gi/2Gi,
    # the proxy on the LimitRange defaults (100m/1 CPU, 256Mi/1Gi).
    assert hard == {
        "pods": "5",
        "requests.cpu": "12600m",
        "limits.cpu": "27",
        "requests.memory": "50432Mi",
        "limits.memory": "99Gi",
        "persistentvolumeclaims": "4",
        "requests.storage": "605Gi",
        "services": "3",
        "services.nodeports": "1",
        "services.loadbalancers": "1",
    }
    limits = get(objects, "LimitRange", "big-lab")["spec"]["limits"]
    assert limits[0]["max"] == {"cpu": "8", "memory": "32Gi"}
    assert limits[1] == {"type": "PersistentVolumeClaim", "max": {"storage": "200Gi"}}
    public = get(objects, "Service", "big-lab-proxy-public")
    assert public["spec"]["type"] == "LoadBalancer"
    assert public["spec"]["ports"][0]["nodePort"] == 31080
    claim = get(objects, "PersistentVolumeClaim", "big-lab-hub-db")
    assert claim["spec"]["storageClassName"] == "fast-ssd"
    hub = container(get(objects, "Deployment", "big-lab-hub"))
    assert hub["resources"] == LARGE_PROFILE["hub"]["resources"]
    found = settings(objects)
    assert found["cull"] == {"enabled": True, "timeout": 7200, "every": 600}
    single = found["kubernetes"]["singleuser"]
    assert (single["cpuGuarantee"], single["cpuLimit"]) == (4, 8)
    assert (single["memGuarantee"], single["memLimit"]) == (16 * 1024**3, 32 * 1024**3)
    assert single["storage"] == {"enabled": True, "capacity": "200Gi", "storageClassName": "fast-ssd"}
    assert LARGE_PROFILE["labels"].items() <= single["labels"].items()
    assert found["kubernetes"]["hubConnectUrl"] == "http://big-lab-hub:8081"
    assert found["kubernetes"]["proxyApiUrl"] == "http://big-lab-proxy-api:8001"
    assert found["kubernetes"]["namespace"] == NAMESPACE


def test_network_policies(render: Render) -> None:
    objects = render({})
    policies = {obj["metadata"]["name"]: obj["spec"] for obj in kinds(objects, "NetworkPolicy")}
    assert set(policies) == {"env-hub", "env-proxy", "env-singleuser"}
    for spec in policies.values():
        assert spec["policyTypes"] == ["Ingress", "Egress"]
    # The user-server policy selects exactly the pods KubeSpawner creates: its
    # labels from settings.json plus its component label.
    user_pod_labels = dict(settings(objects)["kubernetes"]["singleuser"]["labels"])
    user_pod_labels["app.kubernetes.io/component"] = "singleuser-server"
    selector = policies["env-singleuser"]["podSelector"]["matchLabels"]
    assert selector.items() <= user_pod_labels.items()
    # User servers reach the hub and DNS, plus the configured egress (the public internet).
    egress = policies["env-singleuser"]["egress"]
    assert egress[0]["ports"] == [{"port": 8081, "protocol": "TCP"}]
    assert egress[1] == DNS_EGRESS
    assert egress[2:] == DEFAULT_USER_EGRESS
    # Only the hub may use the proxy's API; anyone may reach its public port.
    proxy_ingress = policies["env-proxy"]["ingress"]
    assert proxy_ingress[0] == {"ports": [{"port": "http", "protocol": "TCP"}]}
    api_from = proxy_ingress[1]["from"][0]["podSelector"]["matchLabels"]
    assert api_from["app.kubernetes.io/component"] == "hub"


def test_user_servers_cannot_reach_private_ranges_or_cloud_metadata_by_default(render: Render) -> None:
    egress = get(render({}), "NetworkPolicy", "env-singleuser")["spec"]["egress"]
    blocks = [peer["ipBlock"] for rule in egress for peer in rule.get("to", []) if "ipBlock" in peer]
    assert {block["cidr"] for block in blocks} == {"0.0.0.0/0", "::/0"}
    left_out = {cidr for block in blocks for cidr in block["except"]}
    for private_or_metadata in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "169.254.0.0/16",
        "fc00::/7",
        "fe80::/10",
    ):
        assert private_or_metadata in left_out


def test_isolation_can_be_switched_off(render: Render) -> None:
    objects = render(NO_ISOLATION)
    assert not kinds(objects, "NetworkPolicy")
    assert not kinds(objects, "ResourceQuota")
    assert not kinds(objects, "LimitRange")
    assert settings(objects)["cull"]["enabled"] is False


def test_custom_egress_replaces_the_default_but_never_dns(render: Render) -> None:
    egress = [{"to": [{"ipBlock": {"cidr": "203.0.113.0/24"}}], "ports": [{"port": 443, "protocol": "TCP"}]}]
    spec = get(render({"networkPolicy": {"egress": egress}}), "NetworkPolicy", "env-singleuser")["spec"]
    assert spec["egress"][1:] == [DNS_EGRESS, *egress]
    # No extra egress at all: the hub and DNS remain, so spawns still resolve names.
    closed = get(render({"networkPolicy": {"egress": []}}), "NetworkPolicy", "env-singleuser")["spec"]
    assert closed["egress"][1:] == [DNS_EGRESS]
    assert closed["egress"][0]["to"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "hub"


def api_server_rule(objects: Objects) -> dict[str, Any]:
    """The hub's egress rule towards the Kubernetes API (the only one with TCP ports beyond ours)."""
    egress = get(objects, "NetworkPolicy", "env-hub")["spec"]["egress"]
    ours = {8001, 8081, 8888, 53}
    [rule] = [r for r in egress if any(p["port"] not in ours for p in r.get("ports", []))]
    return rule


def test_hub_reaches_the_api_server_on_its_ports_anywhere_when_addresses_are_unknown(render: Render) -> None:
    rule = api_server_rule(render({}))
    assert rule == {"ports": [{"port": 443, "protocol": "TCP"}, {"port": 6443, "protocol": "TCP"}]}


def test_hub_reaches_only_the_api_servers_addresses_and_ports_when_given(render: Render) -> None:
    values = {"networkPolicy": {"apiServer": {"addresses": ["10.0.0.5", "10.0.0.6", "fd00::5"], "ports": [6443]}}}
    rule = api_server_rule(render(values))
    assert rule == {
        "to": [
            {"ipBlock": {"cidr": "10.0.0.5/32"}},
            {"ipBlock": {"cidr": "10.0.0.6/32"}},
            {"ipBlock": {"cidr": "fd00::5/128"}},
        ],
        "ports": [{"port": 6443, "protocol": "TCP"}],
    }
    # minikube's API server listens on 8443.
    minikube = api_server_rule(render({"networkPolicy": {"apiServer": {"addresses": [], "ports": [8443]}}}))
    assert minikube == {"ports": [{"port": 8443, "protocol": "TCP"}]}


def test_hub_egress_is_otherwise_its_own_components_and_dns(render: Render) -> None:
    egress = get(render({}), "NetworkPolicy", "env-hub")["spec"]["egress"]
    components = [r["to"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] for r in egress if "to" in r]
    assert components == ["proxy", "singleuser-server", "hub"]
    assert DNS_EGRESS in egress
    assert len(egress) == 5


def test_checksums_follow_config_and_secret(render: Render, hub_secrets: HubSecrets) -> None:
    def annotations(values: dict[str, Any]) -> dict[str, str]:
        hub = get(render(values), "Deployment", "env-hub")
        found: dict[str, str] = hub["spec"]["template"]["metadata"]["annotations"]
        return found

    base = annotations({})
    assert set(base) == {"checksum/config", "checksum/secret"}
    other_config = annotations({"cull": {"timeout": 600}})
    assert other_config["checksum/config"] != base["checksum/config"]
    assert other_config["checksum/secret"] == base["checksum/secret"]
    other_secret = annotations({"hub": {"adminPassword": "x" * 40}})
    assert other_secret["checksum/secret"] != base["checksum/secret"]
    assert other_secret["checksum/config"] == base["checksum/config"]
    # An existing Secret's content is not the chart's to hash: only the config is.
    existing = annotations(EXISTING_SECRET)
    assert set(existing) == {"checksum/config"}
    proxy = get(render(EXISTING_SECRET), "Deployment", "env-proxy")["spec"]["template"]["metadata"]
    assert "checksum/secret" not in proxy.get("annotations", {})


def test_an_existing_secret_needs_no_credential_in_the_values(render: Render, hub_secrets: HubSecrets) -> None:
    objects = render(EXISTING_SECRET)
    assert kinds(objects, "Secret") == []
    text = json.dumps(objects)
    for value in (hub_secrets.admin_password, hub_secrets.bot_api_token, hub_secrets.proxy_token):
        assert value not in text
    refs = {
        (env["valueFrom"]["secretKeyRef"]["name"], env["valueFrom"]["secretKeyRef"]["key"])
        for deployment in kinds(objects, "Deployment")
        for env in container(deployment)["env"]
        if "valueFrom" in env
    }
    assert refs == {
        ("env-credentials", "admin-password"),
        ("env-credentials", "bot-api-token"),
        ("env-credentials", "proxy-token"),
    }


def test_fullname_override_and_release_name_limits(render: Render) -> None:
    objects = render({"fullnameOverride": "alice-demo"}, release="jh-0042")
    assert get(objects, "Service", "alice-demo-proxy-public")
    assert all(obj["metadata"]["labels"]["app.kubernetes.io/instance"] == "jh-0042" for obj in objects)
    longest = "e" * 50
    assert get(render({}, release=longest), "Service", f"{longest}-proxy-public")
    with pytest.raises(HelmError, match="at most 50 are allowed"):
        render({}, release="e" * 51)
    with pytest.raises(HelmError, match="must start with a letter"):
        render({}, release="42-env")


DNS_EGRESS: dict[str, Any] = {"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}

DEFAULT_USER_EGRESS: list[dict[str, Any]] = [
    {
        "to": [
            {
                "ipBlock": {
                    "cidr": "0.0.0.0/0",
                    "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16"],
                }
            },
            {"ipBlock": {"cidr": "::/0", "except": ["fc00::/7", "fe80::/10"]}},
        ]
    },
]


# --- scheduling ------------------------------------------------------------------

REAL_NODE_SCHEDULING: dict[str, Any] = {
    "scheduling": {
        "nodeSelector": {"jupyterhub-bot.io/node": "real"},
        "tolerations": [
            {"key": "jupyterhub-bot.io/real-node", "operator": "Equal", "value": "true", "effect": "NoSchedule"}
        ],
    }
}


def pod_spec(objects: Objects, name: str) -> dict[str, Any]:
    spec: dict[str, Any] = get(objects, "Deployment", name)["spec"]["template"]["spec"]
    return spec


def test_scheduling_is_unconstrained_by_default(render: Render) -> None:
    objects = render({})
    for name in ("env-hub", "env-proxy"):
        spec = pod_spec(objects, name)
        assert "nodeSelector" not in spec
        assert "tolerations" not in spec
    single = settings(objects)["kubernetes"]["singleuser"]
    assert single["nodeSelector"] == {}
    assert single["tolerations"] == []


def test_scheduling_reaches_hub_proxy_and_user_pods(
    render: Render, tmp_path: Path, hub_secrets: HubSecrets, monkeypatch: pytest.MonkeyPatch
) -> None:
    objects = render(REAL_NODE_SCHEDULING)
    wanted = REAL_NODE_SCHEDULING["scheduling"]
    for name in ("env-hub", "env-proxy"):
        spec = pod_spec(objects, name)
        assert spec["nodeSelector"] == wanted["nodeSelector"]
        assert spec["tolerations"] == wanted["tolerations"]
    single = settings(objects)["kubernetes"]["singleuser"]
    assert single["nodeSelector"] == wanted["nodeSelector"]
    assert single["tolerations"] == wanted["tolerations"]

    # ... and the hub hands them to KubeSpawner for every user pod.
    for file_name, text in hub_config_files(objects).items():
        (tmp_path / file_name).write_text(text)
    for variable, value in hub_secrets.environment().items():
        monkeypatch.setenv(variable, value)
    config = PyFileConfigLoader("jupyterhub_config.py", path=str(tmp_path)).load_config()
    assert config.KubeSpawner.node_selector == wanted["nodeSelector"]
    assert config.KubeSpawner.tolerations == wanted["tolerations"]


@pytest.mark.parametrize(
    ("scheduling", "field", "problem"),
    [
        pytest.param({"nodeSelector": {"zone": 3}}, "/scheduling/nodeSelector/zone", "want string", id="number"),
        # Helm names the path of a bad property name wrongly; the name itself is in the message.
        pytest.param({"nodeSelector": {"bad key!": "x"}}, "'bad key!'", "invalid propertyName", id="selector-key"),
        pytest.param({"tolerations": [{"keys": "a"}]}, "/scheduling/tolerations/0", "'keys' not allowed", id="typo"),
        pytest.param(
            {"tolerations": [{"key": "a", "operator": "Is"}]},
            "/scheduling/tolerations/0/operator",
            "must be one of",
            id="operator",
        ),
        pytest.param(
            {"tolerations": [{"key": "a", "effect": "NoRun"}]},
            "/scheduling/tolerations/0/effect",
            "must be one of",
            id="effect",
        ),
        pytest.param({"schedule": {}}, "schedule", "not allowed", id="misspelt-block"),
    ],
)
def test_scheduling_values_are_checked(render: Render, scheduling: dict[str, Any], field: str, problem: str) -> None:
    values = scheduling if "schedule" in scheduling else {"scheduling": scheduling}
    assert_schema_refuses(render, values, field, problem)
