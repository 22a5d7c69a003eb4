"""Policy files that cannot lie: what PyYAML or the file system would let slip, and what used
to crash the checker, each becomes one line naming the file, the path and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.policy import load as policy_load
from bot.core.policy import load_policy
from bot.core.policy.load import PolicyLoadError

ROLE = "    members: [user:U0ALICE]\n    allow: [launch]\n    profiles: [small]\n    clusters: [dev]\n"
PROFILE = "  small: {image: 'quay.io/jupyter/minimal-notebook:2025-06-30', cpu: '1', memory: 1Gi}\n"
VALID = f"roles:\n  users:\n{ROLE}profiles:\n{PROFILE}clusters:\n  dev: {{}}\n"


def _problems(path: Path) -> list[str]:
    with pytest.raises(PolicyLoadError) as caught:
        load_policy(path)
    return [str(problem) for problem in caught.value.problems]


# -- 1. duplicate keys ---------------------------------------------------------------------


def test_a_second_roles_block_is_refused_with_both_lines(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        f"roles:\n  first:\n{ROLE}  second:\n{ROLE}"  # lines 1-11
        f"profiles:\n{PROFILE}clusters:\n  dev: {{}}\n"  # lines 12-15
        f"roles:\n  third:\n{ROLE}"  # line 16
    )
    [problem] = _problems(tmp_path)
    assert problem.startswith(f"{tmp_path / 'a.yaml'}: roles: appears twice (lines 1 and 16)")
    assert "keep only the second" in problem


def test_a_key_repeated_deep_inside_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID + "defaults:\n  lifetime: 8h\n  idle_timeout: 1h\n  lifetime: 9h\n")
    (tmp_path / "b.yaml").write_text(
        "profiles:\n  big:\n    image: quay.io/jupyter/minimal-notebook:2025-06-30\n"
        "    cpu: '4'\n    memory: 8Gi\n    storage: 10Gi\n    memory: 64Gi\n"
    )
    problems = _problems(tmp_path)
    assert f"{tmp_path / 'a.yaml'}: defaults.lifetime: appears twice (lines 12 and 14)" in problems[0]
    assert f"{tmp_path / 'b.yaml'}: profiles.big.memory: appears twice (lines 5 and 7)" in problems[1]
    assert len(problems) == 2


def test_yaml_merge_keys_may_still_be_overridden(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        f"roles:\n  users:\n{ROLE}"
        "profiles:\n  small: &small {image: 'quay.io/jupyter/minimal-notebook:2025-06-30', cpu: '1', memory: 1Gi}\n"
        "  big:\n    <<: *small\n    memory: 8Gi\nclusters:\n  dev: {}\n"
    )
    policy = load_policy(tmp_path)
    assert (policy.profiles["big"].memory, policy.profiles["big"].cpu) == ("8Gi", "1")


# -- 2. files that crashed the checker -----------------------------------------------------


def test_a_latin1_file_is_one_problem(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_bytes(VALID.replace("dev: {}", "dev: {}  # für Forschung").encode("latin-1"))
    assert _problems(tmp_path) == [
        f"{tmp_path / 'a.yaml'}: line 10: is not UTF-8 text (byte 0xfc); save the file as UTF-8"
    ]


def test_a_folder_named_like_a_policy_file_is_one_problem(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID)
    (tmp_path / "old.yaml").mkdir()
    [problem] = _problems(tmp_path)
    assert problem.startswith(f"{tmp_path / 'old.yaml'}: is a folder, not a policy file")


def test_a_broken_symlink_is_one_problem(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID)
    (tmp_path / "team.yaml").symlink_to(tmp_path / "gone" / "team.yaml")
    assert _problems(tmp_path) == [
        f"{tmp_path / 'team.yaml'}: is a broken symbolic link (to {tmp_path / 'gone' / 'team.yaml'}, "
        "which does not exist)"
    ]


def test_skipped_files_are_named_in_notes_and_hidden_ones_are_not(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID)
    (tmp_path / "a.yaml.bak").write_text("roles: {broken\n")
    (tmp_path / "README.md").write_text("# policies\n")
    (tmp_path / "archive").mkdir()
    (tmp_path / "archive" / "old.yaml").write_text("roles: {broken\n")
    (tmp_path / "..data").mkdir()  # a mounted ConfigMap's own bookkeeping
    loaded = policy_load.read_policy(tmp_path)
    assert [str(note) for note in loaded.notes] == [
        f"{tmp_path / 'README.md'}: note: skipped: only *.yaml and *.yml files are read",
        f"{tmp_path / 'a.yaml.bak'}: note: skipped: only *.yaml and *.yml files are read",
        f"{tmp_path / 'archive'}: note: skipped: a folder; files in sub-folders are not read",
    ]


# -- 4. messages that help -----------------------------------------------------------------


def test_a_misspelt_key_names_the_closest_and_the_valid_keys(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID.replace("members:", "membres:"))
    problems = _problems(tmp_path)
    assert f"{tmp_path / 'a.yaml'}: roles.users.members: is missing; it is required" in problems
    assert (
        f"{tmp_path / 'a.yaml'}: roles.users.membres: unknown key 'membres' (did you mean 'members'?); "
        "a role may have: members, allow, profiles, clusters, max_environments, max_lifetime, max_extensions, "
        in "\n".join(problems)
    )


def test_a_misspelt_top_level_key_and_verb(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        VALID.replace("clusters:\n  dev", "cluster:\n  dev").replace("[launch]", "[lanch]")
    )
    problems = "\n".join(_problems(tmp_path))
    assert (
        "a.yaml: cluster: unknown key 'cluster' (did you mean 'clusters'?); a policy file may have: roles," in problems
    )
    assert "roles.users.allow.0: 'lanch' is not a verb (did you mean 'launch'?); use launch, list," in problems


def test_a_tab_says_indent_with_spaces(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID.replace("  users:", "\tusers:"))
    assert _problems(tmp_path) == [
        f"{tmp_path / 'a.yaml'}: line 2, column 1: not valid YAML: a tab in the indentation; "
        "indent with spaces, not tabs"
    ]


def test_unquoted_cpu_numbers_are_cpu_amounts(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        VALID.replace("cpu: '1'", "cpu: 2, cpu_guarantee: 0.5")  # YAML reads both as numbers
    )
    profile = load_policy(tmp_path).profiles["small"]
    assert (profile.cpu, profile.cpu_guarantee) == ("2", "0.5")


def test_numbers_where_text_is_needed_say_what_to_write(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID.replace("memory: 1Gi", "memory: 2, description: 4"))
    problems = _problems(tmp_path)
    assert any(
        p.endswith(
            "profiles.small.memory: '2' is not a memory size; use a number with K, M, G or T (or Ki … Ti), like '2Gi'"
        )
        for p in problems
    )
    assert any(
        p.endswith("profiles.small.description: is the number 4; write it as text in quotes, like '4'")
        for p in problems
    )
    assert not any("valid string" in p for p in problems)


def test_a_duration_without_a_unit_is_not_read_as_seconds(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID + "defaults:\n  lifetime: 8\n")
    assert _problems(tmp_path) == [
        f"{tmp_path / 'a.yaml'}: defaults.lifetime: '8' has no unit; "
        "use a number with a unit, like 30m, 8h, 3d or 1d12h"
    ]


def test_a_huge_policy_duration_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        VALID.replace("clusters: [dev]\n", "clusters: [dev]\n    max_lifetime: 99999999999d\n")
    )
    assert _problems(tmp_path) == [
        f"{tmp_path / 'a.yaml'}: roles.users.max_lifetime: '99999999999d' is too long; 366d at most"
    ]


def test_a_bare_cluster_is_an_empty_cluster(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID.replace("  dev: {}\n", "  dev:\n"))
    assert load_policy(tmp_path).clusters["dev"].service_type == "NodePort"


def test_a_bare_role_is_explained_without_class_names(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID.replace("roles:\n", "roles:\n  teaching:\n"))
    assert _problems(tmp_path) == [
        f"{tmp_path / 'a.yaml'}: roles.teaching: is empty; "
        "a role must be a mapping of settings with at least members, allow"
    ]


def test_an_unknown_default_profile_is_reported_against_the_file_with_the_defaults(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID)
    (tmp_path / "z-defaults.yaml").write_text("defaults:\n  profile: large\n")
    assert _problems(tmp_path) == [f"{tmp_path / 'z-defaults.yaml'}: defaults.profile: unknown profile 'large'"]


def test_one_file_can_be_checked_on_its_own(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID)
    (tmp_path / "b.yaml").write_text("roles: {broken\n")
    assert list(load_policy(tmp_path / "a.yaml").roles) == ["users"]
    assert _problems(tmp_path / "missing.yaml") == [f"{tmp_path / 'missing.yaml'}: no such folder or file"]


def test_wrong_shapes_say_what_to_write(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        VALID.replace("members: [user:U0ALICE]", "members: user:U0ALICE\n    guests: maybe").replace(
            "memory: 1Gi}", "memory: 1Gi, max_users: 0}"
        )
    )
    problems = [p.removeprefix(f"{tmp_path / 'a.yaml'}: ") for p in _problems(tmp_path)]
    assert problems == [
        "roles.users.members: is the text 'user:U0ALICE'; write a list in brackets, like [user:U0ALICE]",
        "roles.users.guests: is the text 'maybe'; write true or false",
        "profiles.small.max_users: must be at least 1",
    ]
