"""What the bot's chart renders: credentials only by reference, probes, a locked-down pod,
HTTP and Socket Mode, exactly the intended RBAC rules and admission policy, a per-install
ownership id, and the database and policy options."""

from __future__ import annotations

import json
import re
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from tests.botchart.conftest import BOT_CHART_DIR, REQUIRED_VALUES, Objects, Render, bot_container, env_of, find
from tests.support.hub import CHART_DIR, HelmError, HubSecrets, helm_template

NAMESPACE = "bots"
RELEASE = "jupyterhub-bot"
BOT_ROLE = f"{NAMESPACE}-{RELEASE}"
ENVIRONMENT_ROLE = f"{NAMESPACE}-{RELEASE}-environment"
BOT_USER = f"system:serviceaccount:{NAMESPACE}:{RELEASE}"
ENDPOINTS_ROLE = f"{NAMESPACE}-{RELEASE}-apiserver-endpoints"
TLS_SOURCE_ROLE = f"{NAMESPACE}-{RELEASE}-tls-source"
# The label the bot puts on its namespaces, valued with INSTALLATION_ID.
INSTALLATION_LABEL = "jupyterhub-bot.io/installation"
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
# The required values less the policies (deep merging cannot remove a key).
SLACK_ONLY = {"image": REQUIRED_VALUES["image"], "slack": REQUIRED_VALUES["slack"]}
APP_VERSION = yaml.safe_load((BOT_CHART_DIR / "Chart.yaml").read_text())["appVersion"]

ALL_OPTIONS: dict[str, Any] = {
    "replicas": 2,
    "database": {"existingSecret": "bot-db"},
    "kubeconfig": {"existingSecret": "bot-kubeconfig"},
    "ingress": {"enabled": True, "host": "bot.example.org", "className": "nginx", "tls": {"secretName": "bot-tls"}},
    "config": {"chartRef": "oci://registry.example.org/charts/jupyterhub", "chartVersion": "0.1.0"},
    "extraEnv": [{"name": "EXTRA", "value": "1"}],
    "imagePullSecrets": [{"name": "regcred"}],
    "serviceAccount": {"annotations": {"iam.example.org/role": "bot"}},
    "labels": {"team": "platform"},
    "podAnnotations": {"example.org/note": "hello"},
    "installationId": "team-a",
    "tlsSourceSecrets": [
        {"namespace": "cert-manager", "name": "wildcard-tls"},
        {"namespace": "cert-manager", "name": "wildcard-tls-next"},
        {"namespace": "ingress-nginx", "name": "default-tls"},
    ],
}

# The bot's only cluster-wide rights (charts/jupyterhub-bot/templates/rbac/_rules.tpl).
EXPECTED_BOT_RULES = [
    {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["create", "get", "list", "delete", "patch"]},
    {"apiGroups": [""], "resources": ["nodes"], "verbs": ["list"]},
    {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["rolebindings"], "verbs": ["create"]},
    {
        "apiGroups": ["rbac.authorization.k8s.io"],
        "resources": ["clusterroles"],
        "verbs": ["bind"],
        "resourceNames": [ENVIRONMENT_ROLE],
    },
]

MANAGE = ["get", "list", "watch", "create", "update", "patch", "delete"]
READ = ["get", "list", "watch"]
# What the bot may do inside each environment namespace, once it has bound itself there.
EXPECTED_ENVIRONMENT_RULES = [
    {
        "apiGroups": [""],
        "resources": [
            "configmaps",
            "secrets",
            "services",
            "serviceaccounts",
            "persistentvolumeclaims",
            "resourcequotas",
            "limitranges",
        ],
        "verbs": MANAGE,
    },
    {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": MANAGE},
    {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies", "ingresses"], "verbs": MANAGE},
    {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "rolebindings"], "verbs": MANAGE},
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch", "create", "delete"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": READ},
    {"apiGroups": ["apps"], "resources": ["replicasets"], "verbs": READ},
    # Hub activity through a port-forward, for a bot outside the cluster (WebSocket: get; 1.35+: also create).
    {"apiGroups": [""], "resources": ["pods/portforward"], "verbs": ["get", "create"]},
]


@pytest.fixture(scope="module")
def default_objects(render: Render) -> Objects:
    return render(release=RELEASE, namespace=NAMESPACE)


@pytest.fixture(scope="module")
def all_options(render: Render) -> Objects:
    return render(ALL_OPTIONS, release=RELEASE, namespace=NAMESPACE)


# --- credentials ----------------------------------------------------------------


def test_slack_credentials_come_only_from_the_named_secret(render: Render) -> None:
    objects = render(
        {"slack": {"existingSecret": "my-slack", "botTokenKey": "token", "signingSecretKey": "signing"}},
        release=RELEASE,
        namespace=NAMESPACE,
    )
    env = env_of(bot_container(objects))
    assert env["SLACK_BOT_TOKEN"] == {
        "name": "SLACK_BOT_TOKEN",
        "valueFrom": {"secretKeyRef": {"name": "my-slack", "key": "token"}},
    }
    assert env["SLACK_SIGNING_SECRET"] == {
        "name": "SLACK_SIGNING_SECRET",
        "valueFrom": {"secretKeyRef": {"name": "my-slack", "key": "signing"}},
    }
    assert env["ADMIN_CHANNEL_ID"]["value"] == "C0ADMINS"


def test_http_mode_serves_slack_requests_with_the_signing_secret(default_objects: Objects) -> None:
    container = bot_container(default_objects)
    assert container["args"] == ["python", "-m", "bot", "serve"]
    env = env_of(container)
    assert "SLACK_SIGNING_SECRET" in env and "SLACK_APP_TOKEN" not in env


def test_socket_mode_uses_the_app_token_and_renders_no_ingress(render: Render) -> None:
    objects = render({"slack": {"mode": "socket", "appTokenKey": "xapp"}})
    container = bot_container(objects)
    assert container["args"] == ["python", "-m", "bot", "socket"]
    env = env_of(container)
    assert env["SLACK_APP_TOKEN"] == {
        "name": "SLACK_APP_TOKEN",
        "valueFrom": {"secretKeyRef": {"name": "slack-credentials", "key": "xapp"}},
    }
    assert env["SLACK_BOT_TOKEN"]["valueFrom"]["secretKeyRef"]["key"] == "bot-token"
    assert "SLACK_SIGNING_SECRET" not in env
    assert [o for o in objects if o["kind"] == "Ingress"] == []
    # The Service and the probes stay: /healthz, /readyz and /metrics on $PORT.
    assert find(objects, "Service")["spec"]["ports"][0]["targetPort"] == "http"
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert env["PORT"]["value"] == "3000"
    assert find(objects, "Deployment")["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"] == "3000"


def test_socket_mode_refuses_an_ingress_with_a_reason(render: Render) -> None:
    with pytest.raises(HelmError, match="in socket mode the bot connects out to Slack and needs no Ingress"):
        render({"slack": {"mode": "socket"}, "ingress": {"enabled": True, "host": "bot.example.org"}})


def installation_id(objects: Objects) -> str:
    return str(env_of(bot_container(objects))["INSTALLATION_ID"]["value"])


def test_installation_id_defaults_to_namespace_and_fullname(default_objects: Objects, all_options: Objects) -> None:
    assert installation_id(default_objects) == f"{NAMESPACE}.{RELEASE}"
    assert installation_id(all_options) == "team-a"


def test_installation_ids_of_two_installs_differ(render: Render) -> None:
    ids = {
        installation_id(render(release=release, namespace=namespace))
        for release, namespace in [("bot", "team-a"), ("bot", "team-b"), ("other", "team-a")]
    }
    assert ids == {"team-a.bot", "team-b.bot", "team-a.other"}


def test_a_long_installation_id_stays_a_unique_label_value(render: Render) -> None:
    namespace = "n" * 63
    ids = [installation_id(render(release=release, namespace=namespace)) for release in ("a" * 53, "a" * 52 + "b")]
    for found in ids:
        assert len(found) <= 63 and LABEL_VALUE.match(found), found
        assert found.startswith("n" * 54 + "-")
    assert ids[0] != ids[1], "the hash keeps cut ids apart"
    # A cut that ends on the separator drops it rather than leave a non-alphanumeric end.
    dotted = installation_id(render(release="r" * 53, namespace="x" * 53))
    assert dotted.startswith("x" * 53 + "-") and LABEL_VALUE.match(dotted)


@pytest.mark.parametrize("options", ["defaults", "all options"])
def test_no_secret_objects_and_no_literal_credentials(
    default_objects: Objects, all_options: Objects, options: str
) -> None:
    objects = default_objects if options == "defaults" else all_options
    assert [o for o in objects if o["kind"] == "Secret"] == []
    env = env_of(bot_container(objects))
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"):
        assert "value" not in env[name] and "secretKeyRef" in env[name]["valueFrom"]
    text = json.dumps(objects)
    for credential_prefix in ("xoxb-", "xapp-", "postgresql://", "postgresql+psycopg://"):
        assert credential_prefix not in text


def test_database_url_from_a_secret(all_options: Objects) -> None:
    env = env_of(bot_container(all_options))
    assert env["DATABASE_URL"] == {
        "name": "DATABASE_URL",
        "valueFrom": {"secretKeyRef": {"name": "bot-db", "key": "database-url"}},
    }
    deployment = find(all_options, "Deployment")
    assert "strategy" not in deployment["spec"], "a shared database allows rolling updates"
    assert deployment["spec"]["replicas"] == 2
    assert [o for o in all_options if o["kind"] == "PersistentVolumeClaim"] == []
    volumes = {v["name"] for v in deployment["spec"]["template"]["spec"]["volumes"]}
    assert "data" not in volumes


# --- the pod --------------------------------------------------------------------


def test_probes_ports_and_service(default_objects: Objects) -> None:
    container = bot_container(default_objects)
    assert container["args"] == ["python", "-m", "bot", "serve"]
    assert container["ports"] == [{"name": "http", "containerPort": 3000, "protocol": "TCP"}]
    assert env_of(container)["PORT"]["value"] == "3000"
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["resources"] == {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}}
    service = find(default_objects, "Service")
    assert service["metadata"]["name"] == RELEASE
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]
    assert service["spec"]["selector"] == find(default_objects, "Deployment")["spec"]["selector"]["matchLabels"]


def test_non_root_read_only_root_with_a_writable_tmp(default_objects: Objects) -> None:
    pod = find(default_objects, "Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    container = bot_container(default_objects)
    assert container["securityContext"] == {
        "readOnlyRootFilesystem": True,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
    }
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts["tmp"] == "/tmp"
    assert {"name": "tmp", "emptyDir": {}} in pod["volumes"]
    env = env_of(container)
    assert env["HOME"]["value"] == "/tmp", "helm and client-go write their caches under $HOME"
    assert pod["serviceAccountName"] == RELEASE
    assert pod["automountServiceAccountToken"] is True


def test_image_defaults_to_the_app_version(default_objects: Objects, render: Render) -> None:
    assert bot_container(default_objects)["image"] == f"registry.example.org/platform/jupyterhub-bot:{APP_VERSION}"
    pinned = render({"image": {"repository": "registry.example.org/bot", "tag": "1.2.3"}})
    assert bot_container(pinned)["image"] == "registry.example.org/bot:1.2.3"


def test_the_image_is_required_since_none_is_published(render: Render) -> None:
    # It used to default to ghcr.io/example/jupyterhub-bot, which does not exist: an install
    # following the README ended in ImagePullBackOff.
    values = {key: value for key, value in REQUIRED_VALUES.items() if key != "image"}
    with pytest.raises(HelmError) as failure:
        render(values, required=False)
    message = failure.value.stderr
    assert "image.repository is required" in message and "Dockerfile" in message


def test_sqlite_on_a_kept_volume_by_default(default_objects: Objects) -> None:
    deployment = find(default_objects, "Deployment")
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    env = env_of(bot_container(default_objects))
    assert env["DATABASE_URL"]["value"] == "sqlite:////var/lib/jupyterhub-bot/jupyterhub-bot.db"
    claim = find(default_objects, "PersistentVolumeClaim")
    assert claim["metadata"]["name"] == f"{RELEASE}-data"
    assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    assert volumes["data"]["persistentVolumeClaim"] == {"claimName": f"{RELEASE}-data"}


def test_sqlite_without_persistence_or_on_an_existing_claim(render: Render) -> None:
    ephemeral = render({"persistence": {"enabled": False}})
    assert [o for o in ephemeral if o["kind"] == "PersistentVolumeClaim"] == []
    volumes = {v["name"]: v for v in find(ephemeral, "Deployment")["spec"]["template"]["spec"]["volumes"]}
    assert volumes["data"] == {"name": "data", "emptyDir": {}}

    existing = render({"persistence": {"existingClaim": "old-bot-db"}})
    assert [o for o in existing if o["kind"] == "PersistentVolumeClaim"] == []
    volumes = {v["name"]: v for v in find(existing, "Deployment")["spec"]["template"]["spec"]["volumes"]}
    assert volumes["data"]["persistentVolumeClaim"] == {"claimName": "old-bot-db"}


def test_policies_as_a_config_map_whose_change_restarts_the_bot(default_objects: Objects, render: Render) -> None:
    config_map = find(default_objects, "ConfigMap", f"{RELEASE}-policies")
    assert yaml.safe_load(config_map["data"]["policy.yaml"])["clusters"] == {"here": {"service_type": "NodePort"}}
    pod = find(default_objects, "Deployment")["spec"]["template"]
    assert {"name": "policies", "configMap": {"name": f"{RELEASE}-policies"}} in pod["spec"]["volumes"]
    assert env_of(bot_container(default_objects))["POLICIES_DIR"]["value"] == "/etc/jupyterhub-bot/policies"

    changed = render({"policies": {"files": {"policy.yaml": "roles: {}\nclusters: {}\n"}}})
    before = pod["metadata"]["annotations"]["checksum/policies"]
    after = find(changed, "Deployment")["spec"]["template"]["metadata"]["annotations"]["checksum/policies"]
    assert before != after


def test_policies_from_an_existing_config_map(render: Render) -> None:
    objects = render({**SLACK_ONLY, "policies": {"existingConfigMap": "team-policies"}}, required=False)
    assert [o for o in objects if o["kind"] == "ConfigMap"] == []
    pod = find(objects, "Deployment")["spec"]["template"]
    assert {"name": "policies", "configMap": {"name": "team-policies"}} in pod["spec"]["volumes"]
    assert "checksum/policies" not in pod["metadata"]["annotations"]


def test_prometheus_annotations_are_optional(default_objects: Objects, render: Render) -> None:
    annotations = find(default_objects, "Deployment")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == "3000"
    assert annotations["prometheus.io/path"] == "/metrics"
    quiet = render({"metrics": {"prometheusAnnotations": False}})
    annotations = find(quiet, "Deployment")["spec"]["template"]["metadata"]["annotations"]
    assert not any(key.startswith("prometheus.io/") for key in annotations)


def test_ingress_exposes_only_slack_events(all_options: Objects, default_objects: Objects) -> None:
    assert [o for o in default_objects if o["kind"] == "Ingress"] == []
    ingress = find(all_options, "Ingress")
    [rule] = ingress["spec"]["rules"]
    assert rule["host"] == "bot.example.org"
    assert rule["http"]["paths"] == [
        {
            "path": "/slack/events",
            "pathType": "Exact",
            "backend": {"service": {"name": RELEASE, "port": {"name": "http"}}},
        }
    ]
    assert ingress["spec"]["tls"] == [{"hosts": ["bot.example.org"], "secretName": "bot-tls"}]
    assert ingress["spec"]["ingressClassName"] == "nginx"


def test_kubeconfig_from_a_secret_replaces_the_in_cluster_identity(all_options: Objects) -> None:
    pod = find(all_options, "Deployment")["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert {"name": "kubeconfig", "secret": {"secretName": "bot-kubeconfig"}} in pod["volumes"]
    assert env_of(bot_container(all_options))["KUBECONFIG"]["value"] == "/etc/jupyterhub-bot/kubeconfig/kubeconfig"


def test_settings_reach_the_bot_as_environment_variables(all_options: Objects) -> None:
    env = {name: entry.get("value") for name, entry in env_of(bot_container(all_options)).items()}
    assert env["CHART_REF"] == "oci://registry.example.org/charts/jupyterhub"
    assert env["CHART_VERSION"] == "0.1.0"
    assert env["DEPLOY_TIMEOUT_SECONDS"] == "600"
    assert env["MAX_CONCURRENT_DEPLOYS"] == "4"
    assert env["LOG_FORMAT"] == "json"
    assert env["EXTRA"] == "1"


# --- RBAC -----------------------------------------------------------------------


def test_the_bots_cluster_wide_rules_exactly(default_objects: Objects) -> None:
    role = find(default_objects, "ClusterRole", BOT_ROLE)
    assert role["rules"] == EXPECTED_BOT_RULES
    binding = find(default_objects, "ClusterRoleBinding")
    assert binding["metadata"]["name"] == BOT_ROLE
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": BOT_ROLE}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": RELEASE, "namespace": NAMESPACE}]


def test_the_environment_rules_exactly_and_never_bound_by_the_chart(default_objects: Objects) -> None:
    role = find(default_objects, "ClusterRole", ENVIRONMENT_ROLE)
    assert role["rules"] == EXPECTED_ENVIRONMENT_RULES
    bindings = [o for o in default_objects if o["kind"] in ("ClusterRoleBinding", "RoleBinding")]
    assert sorted(b["roleRef"]["name"] for b in bindings) == [BOT_ROLE, ENDPOINTS_ROLE]
    env = env_of(bot_container(default_objects))
    assert env["ENVIRONMENT_CLUSTER_ROLE"]["value"] == ENVIRONMENT_ROLE
    assert env["BOT_SERVICE_ACCOUNT"]["value"] == f"{NAMESPACE}/{RELEASE}"


def _grants(rules: list[dict[str, Any]], group: str, resource: str, verb: str) -> bool:
    return any(
        group in rule["apiGroups"]
        and resource in rule["resources"]
        and verb in rule["verbs"]
        and "resourceNames" not in rule
        for rule in rules
    )


def test_the_apiserver_endpoints_role_reads_one_endpoint_slice_in_default(default_objects: Objects) -> None:
    role = find(default_objects, "Role", ENDPOINTS_ROLE)
    assert role["metadata"]["namespace"] == "default"
    assert role["rules"] == [
        {
            "apiGroups": ["discovery.k8s.io"],
            "resources": ["endpointslices"],
            "verbs": ["get"],
            "resourceNames": ["kubernetes"],
        }
    ]
    binding = find(default_objects, "RoleBinding", ENDPOINTS_ROLE)
    assert binding["metadata"]["namespace"] == "default"
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": ENDPOINTS_ROLE}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": RELEASE, "namespace": NAMESPACE}]


def test_tls_sources_are_readable_by_name_one_role_per_namespace(
    all_options: Objects, default_objects: Objects
) -> None:
    assert not [o for o in default_objects if o["metadata"]["name"] == TLS_SOURCE_ROLE]
    roles = {
        o["metadata"]["namespace"]: o
        for o in all_options
        if o["kind"] == "Role" and o["metadata"]["name"] == TLS_SOURCE_ROLE
    }
    assert {ns: r["rules"] for ns, r in roles.items()} == {
        "cert-manager": [
            {
                "apiGroups": [""],
                "resources": ["secrets"],
                "verbs": ["get"],
                "resourceNames": ["wildcard-tls", "wildcard-tls-next"],
            }
        ],
        "ingress-nginx": [
            {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"], "resourceNames": ["default-tls"]}
        ],
    }
    bindings = [o for o in all_options if o["kind"] == "RoleBinding" and o["metadata"]["name"] == TLS_SOURCE_ROLE]
    assert sorted(b["metadata"]["namespace"] for b in bindings) == ["cert-manager", "ingress-nginx"]
    for binding in bindings:
        assert binding["roleRef"]["name"] == TLS_SOURCE_ROLE
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": RELEASE, "namespace": NAMESPACE}]


def test_the_environment_role_covers_everything_the_environment_chart_makes(helm: Any) -> None:
    """Helm (as the bot) must manage every kind charts/jupyterhub renders, and the bot must hold
    every right the hub's Role grants, since Kubernetes lets it grant only what it holds. With
    hub.existingSecret the bot makes the credentials Secret itself (and copies TLS Secrets)."""
    secrets = HubSecrets.generate()
    ingress = {"enabled": True, "host": "lab.example.org", "tls": {"enabled": True, "secretName": "lab-tls"}}
    environment = [
        obj
        for values in ({**secrets.values(), "ingress": ingress}, {"hub": {"existingSecret": "lab-credentials"}})
        for obj in helm_template(helm, values, release="env", namespace="env-ns", chart=CHART_DIR)
    ]
    assert {"Secret", "Ingress", "NetworkPolicy", "Role"} <= {o["kind"] for o in environment}
    rules = EXPECTED_ENVIRONMENT_RULES
    for verb in ("create", "get", "delete"):
        assert _grants(rules, "", "secrets", verb), f"cannot {verb} the credentials or TLS Secret"
    kinds = {(o["apiVersion"].rpartition("/")[0], o["kind"]) for o in environment}
    plural = {"NetworkPolicy": "networkpolicies", "Ingress": "ingresses"}
    for group, kind in sorted(kinds):
        resource = plural.get(kind, f"{kind.lower()}s")
        for verb in MANAGE:
            assert _grants(rules, group, resource, verb), f"cannot {verb} {resource}"
    for role in (o for o in environment if o["kind"] == "Role"):
        for rule in role["rules"]:
            for group in rule["apiGroups"]:
                for resource in rule["resources"]:
                    for verb in rule["verbs"]:
                        assert _grants(rules, group, resource, verb), f"the hub may {verb} {resource}, the bot not"


def test_cluster_scoped_names_carry_the_release_namespace(render: Render) -> None:
    names = {
        ns: sorted(o["metadata"]["name"] for o in render(namespace=ns) if "namespace" not in o["metadata"])
        for ns in ("team-a", "team-b")
    }
    assert names["team-a"] == [
        "team-a-jupyterhub-bot",
        "team-a-jupyterhub-bot",
        "team-a-jupyterhub-bot-environment",
        "team-a-jupyterhub-bot-own-namespaces",
        "team-a-jupyterhub-bot-own-namespaces",
    ]
    assert not set(names["team-a"]) & set(names["team-b"])


def test_without_rbac_the_bot_is_not_told_to_bind_itself(render: Render) -> None:
    objects = render({"rbac": {"create": False}})
    assert not [o for o in objects if o["kind"] in ("ClusterRole", "ClusterRoleBinding")]
    env = env_of(bot_container(objects))
    assert "ENVIRONMENT_CLUSTER_ROLE" not in env and "BOT_SERVICE_ACCOUNT" not in env


def test_an_existing_service_account(render: Render) -> None:
    objects = render({"serviceAccount": {"create": False, "name": "bot-identity"}})
    assert not [o for o in objects if o["kind"] == "ServiceAccount"]
    assert find(objects, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"] == "bot-identity"
    assert find(objects, "ClusterRoleBinding")["subjects"][0]["name"] == "bot-identity"
    policy = find(objects, "ValidatingAdmissionPolicy")
    assert policy["spec"]["matchConditions"][0]["expression"].endswith("'system:serviceaccount:bots:bot-identity'")
    assert find(objects, "RoleBinding", ENDPOINTS_ROLE)["subjects"][0]["name"] == "bot-identity"


# --- admission policy -----------------------------------------------------------


def test_admission_policy_confines_the_bot_to_its_own_namespaces(default_objects: Objects) -> None:
    policy = find(default_objects, "ValidatingAdmissionPolicy")
    spec = policy["spec"]
    assert spec["failurePolicy"] == "Fail"
    assert spec["matchConstraints"]["resourceRules"] == [
        {
            "apiGroups": [""],
            "apiVersions": ["*"],
            "operations": ["CREATE", "UPDATE", "DELETE"],
            "resources": ["namespaces"],
        },
        {
            "apiGroups": ["rbac.authorization.k8s.io"],
            "apiVersions": ["*"],
            "operations": ["CREATE", "UPDATE", "DELETE"],
            "resources": ["rolebindings"],
        },
    ]
    assert spec["matchConditions"] == [
        {"name": "only-the-bot", "expression": f"request.userInfo.username == '{BOT_USER}'"}
    ]
    # Ownership is this install's id in the installation label, as the bot is told (INSTALLATION_ID).
    own = next(v for v in spec["variables"] if v["name"] == "ownNamespace")["expression"]
    assert f"variables.targetLabels['{INSTALLATION_LABEL}'] == '{NAMESPACE}.{RELEASE}'" in own
    assert [v["reason"] for v in spec["validations"]] == ["Forbidden"] * 4
    pod_security = spec["validations"][1]["expression"]
    assert "variables.targetLabels['pod-security.kubernetes.io/enforce'] == 'restricted'" in pod_security
    assert "variables.targetLabels['pod-security.kubernetes.io/enforce-version'] == 'latest'" in pod_security
    assert f"'{ENVIRONMENT_ROLE}'" in spec["validations"][2]["expression"]
    # A namespace it changes must have been its own before the change, too.
    assert spec["validations"][3]["expression"] == "variables.ownedBefore"
    owned_before = next(v for v in spec["variables"] if v["name"] == "ownedBefore")["expression"]
    assert f"oldObject.metadata.labels['{INSTALLATION_LABEL}'] == '{NAMESPACE}.{RELEASE}'" in owned_before

    binding = find(default_objects, "ValidatingAdmissionPolicyBinding")
    assert binding["spec"] == {"policyName": policy["metadata"]["name"], "validationActions": ["Deny"]}


def test_admission_policy_follows_an_explicit_installation_id(all_options: Objects) -> None:
    own = next(
        v for v in find(all_options, "ValidatingAdmissionPolicy")["spec"]["variables"] if v["name"] == "ownNamespace"
    )
    assert f"variables.targetLabels['{INSTALLATION_LABEL}'] == 'team-a'" in own["expression"]


def test_admission_policy_can_be_turned_off(render: Render) -> None:
    objects = render({"admissionPolicy": {"enabled": False}})
    assert not [o for o in objects if o["kind"].startswith("ValidatingAdmissionPolicy")]


# --- refusals and validity ------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "message"),
    [
        pytest.param({"slack": {"existingSecret": ""}}, "slack.existingSecret is required", id="no-slack-secret"),
        pytest.param({"slack": {"adminChannelId": ""}}, "slack.adminChannelId is required", id="no-admin-channel"),
        pytest.param({"policies": {"existingConfigMap": "other"}}, "not both", id="two-policy-sources"),
        pytest.param({"replicas": 2}, "needs a database they share", id="replicas-on-sqlite"),
        pytest.param({"ingress": {"enabled": True}}, "/ingress/host", id="ingress-without-host"),
    ],
)
def test_impossible_settings_fail_the_render_with_a_reason(
    render: Render, values: dict[str, Any], message: str
) -> None:
    with pytest.raises(HelmError) as failure:
        render(values)
    assert message in failure.value.stderr


def test_policies_are_required(render: Render) -> None:
    with pytest.raises(HelmError, match="policies are required"):
        render(SLACK_ONLY, required=False)


@pytest.mark.parametrize("version", ["1.30.0", kubernetes_validate.utils.latest_version()])
@pytest.mark.parametrize("options", ["defaults", "all options"])
def test_objects_match_the_kubernetes_schema(
    default_objects: Objects, all_options: Objects, options: str, version: str
) -> None:
    problems = []
    for obj in default_objects if options == "defaults" else all_options:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(part) for part in error.path)
            problems.append(f"{obj['kind']}/{obj['metadata']['name']}: {path}: {error.message}")
    assert not problems, "\n".join(problems)
