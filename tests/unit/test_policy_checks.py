"""Settings that are valid one by one but cannot work together: an error (the bot will not
start) or a warning (printed by check-policies, logged once at start-up), with file and path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from bot.core.policy import load as policy_load
from bot.core.policy import load_policy
from bot.core.policy.load import PolicyLoadError

LAUNCHER = {
    "members": ["user:U0ALICE"],
    "allow": ["launch", "list"],
    "profiles": ["small"],
    "clusters": ["dev"],
    "max_lifetime": "3d",
}
ADMINS = {"members": ["group:S0ADMINS"], "allow": ["approve", "deny", "expire"]}
SMALL = {"image": "quay.io/jupyter/minimal-notebook:2025-06-30", "cpu": "1", "memory": "1Gi"}


def _write(directory: Path, *, roles: dict[str, object], clusters: dict[str, object] | None = None) -> Path:
    policy = {"roles": roles, "profiles": {"small": SMALL}, "clusters": clusters or {"dev": {}}}
    (directory / "team.yaml").write_text(yaml.safe_dump(policy, sort_keys=False))
    return directory / "team.yaml"


def _problems(directory: Path) -> list[str]:
    with pytest.raises(PolicyLoadError) as caught:
        load_policy(directory)
    return [str(problem) for problem in caught.value.problems]


def _warnings(directory: Path, kubeconfig: str = "") -> list[str]:
    return [str(warning) for warning in policy_load.read_policy(directory, kubeconfig=kubeconfig).warnings]


def test_approval_required_with_nobody_to_approve_is_an_error(tmp_path: Path) -> None:
    file = _write(tmp_path, roles={"users": {**LAUNCHER, "approval": "required"}})
    assert _problems(tmp_path) == [
        f"{file}: roles.users.approval: is 'required', but no role may 'approve', so requests would wait forever; "
        "give a role 'approve' (and 'deny'), or set approval: none"
    ]
    _write(tmp_path, roles={"users": {**LAUNCHER, "approval": "required"}, "admins": ADMINS})
    assert load_policy(tmp_path).roles["users"].approval == "required"


def test_a_role_without_members_is_a_warning(tmp_path: Path) -> None:
    file = _write(tmp_path, roles={"users": LAUNCHER, "admins": {**ADMINS, "members": []}})
    assert _warnings(tmp_path) == [
        f"{file}: roles.admins.members: warning: is empty, so nobody has this role; "
        "add Slack IDs (user:U…, user:W…, group:S…)"
    ]


def test_no_member_in_any_role_is_one_warning_for_all(tmp_path: Path) -> None:
    file = _write(tmp_path, roles={"users": {**LAUNCHER, "members": []}})
    assert _warnings(tmp_path) == [
        f"{file}: roles: warning: no role has a member, so nobody can use the bot yet; "
        "name Slack users (user:U… or user:W…) or user groups (group:S…) in a role's members",
    ]


def test_a_launcher_with_no_environments_is_an_error(tmp_path: Path) -> None:
    file = _write(tmp_path, roles={"users": {**LAUNCHER, "max_environments": 0}})
    assert _problems(tmp_path) == [
        f"{file}: roles.users.max_environments: is 0, so every launch this role allows would be refused; "
        "to stop its members launching, take 'launch' out of allow"
    ]


def test_tls_without_a_base_domain_is_an_error(tmp_path: Path) -> None:
    tls = {"mode": "controller-default"}
    file = _write(tmp_path, roles={"users": LAUNCHER}, clusters={"dev": {"tls": tls}})
    assert _problems(tmp_path) == [
        f"{file}: clusters.dev.tls: needs a base_domain: TLS is served by the Ingress, "
        "and hubs get an Ingress only with one"
    ]
    _write(tmp_path, roles={"users": LAUNCHER}, clusters={"dev": {"tls": tls, "base_domain": "hubs.example"}})
    assert load_policy(tmp_path).clusters["dev"].tls is not None


@pytest.mark.parametrize(
    ("cluster", "said"),
    [
        ({"tls_secret": "wildcard"}, "tls_secret is replaced by tls"),
        ({"tls": {"mode": "cert-manager"}}, "mode cert-manager needs an issuer"),
        ({"tls": {"mode": "copy-secret", "secret": "wildcard"}}, "secret: <namespace>/<name>"),
        ({"images": {"hub": "registry.example/k8s-hub"}}, "needs an explicit tag"),
    ],
)
def test_cluster_settings_that_cannot_work_say_how_to_fix_them(
    tmp_path: Path, cluster: dict[str, object], said: str
) -> None:
    _write(tmp_path, roles={"users": LAUNCHER}, clusters={"dev": {"base_domain": "hubs.example", **cluster}})
    assert any(said in problem for problem in _problems(tmp_path)), _problems(tmp_path)


def test_cluster_ip_without_a_base_domain_is_an_error(tmp_path: Path) -> None:
    file = _write(tmp_path, roles={"users": LAUNCHER}, clusters={"dev": {"service_type": "ClusterIP"}})
    [problem] = _problems(tmp_path)
    assert problem.startswith(f"{file}: clusters.dev.service_type: ClusterIP without a base_domain")
    assert "no browser can open" in problem
    _write(
        tmp_path,
        roles={"users": LAUNCHER},
        clusters={"dev": {"service_type": "ClusterIP", "base_domain": "hubs.example.com"}},
    )
    assert load_policy(tmp_path).clusters["dev"].service_type == "ClusterIP"


def test_two_clusters_without_a_context_are_an_error(tmp_path: Path) -> None:
    roles = {"users": {**LAUNCHER, "clusters": ["dev", "prod", "lab"]}}
    file = _write(tmp_path, roles=roles, clusters={"dev": {}, "prod": {"context": "prod"}, "lab": {}})
    assert _problems(tmp_path) == [
        f"{file}: clusters.lab.context: is not set, nor is clusters.dev.context: both would be the kubeconfig's "
        "current context (or the cluster the bot runs in); give each cluster its context"
    ]


def _kubeconfig(path: Path, *contexts: str) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
                "users": [{"name": "u", "user": {}}],
                "contexts": [{"name": name, "context": {"cluster": "c", "user": "u"}} for name in contexts],
                "current-context": contexts[0],
            }
        )
    )
    return path


def test_a_context_missing_from_the_kubeconfig_is_a_warning(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    roles = {"users": {**LAUNCHER, "clusters": ["dev", "prod"]}}
    file = _write(policies, roles=roles, clusters={"dev": {"context": "dev-east"}, "prod": {"context": "prod-west"}})
    first = _kubeconfig(tmp_path / "first", "dev-east", "staging")
    second = _kubeconfig(tmp_path / "second", "prod-east")
    both = os.pathsep.join([str(first), str(tmp_path / "absent"), str(second)])
    assert _warnings(policies, both) == [
        f"{file}: clusters.prod.context: warning: 'prod-west' is not a context in the kubeconfig ({both}), "
        "so launches on this cluster would fail; did you mean 'prod-east'? its contexts: dev-east, prod-east, staging"
    ]
    assert _warnings(policies, str(first))[0].startswith(f"{file}: clusters.prod.context: warning: 'prod-west'")
    # Without a kubeconfig there is nothing to check against (in-cluster, or set later).
    assert _warnings(policies) == []


def test_an_unreadable_kubeconfig_is_a_warning_and_no_context_is_reported_on_a_guess(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    _write(policies, roles={"users": LAUNCHER}, clusters={"dev": {"context": "dev-east"}})
    broken = tmp_path / "kubeconfig"
    broken.write_text("contexts: [\n")
    [warning] = _warnings(policies, str(broken))
    assert warning.startswith(f"{broken}: warning: cannot be read (")
    assert warning.endswith("so policy contexts were not checked against it")


def test_a_launcher_without_max_lifetime_is_told_which_cap_applies(tmp_path: Path) -> None:
    uncapped = {key: value for key, value in LAUNCHER.items() if key != "max_lifetime"}
    file = _write(tmp_path, roles={"users": uncapped})
    assert _warnings(tmp_path) == [
        f"{file}: roles.users: warning: allows 'launch' but sets no max_lifetime, so the built-in cap of 7d applies; "
        "set max_lifetime here, or defaults.max_lifetime"
    ]
    (tmp_path / "defaults.yaml").write_text("defaults:\n  max_lifetime: 2d\n")
    assert _warnings(tmp_path) == []
    assert load_policy(tmp_path).defaults.max_lifetime.days == 2


def test_profile_and_cluster_names_longer_than_an_environment_record_holds_are_refused(tmp_path: Path) -> None:
    long = "c" * 65
    file = _write(tmp_path, roles={"users": {**LAUNCHER, "clusters": [long]}}, clusters={long: {}})
    assert f"{file}: clusters.{long}: is 65 characters long; a name may have at most 64" in _problems(tmp_path)
