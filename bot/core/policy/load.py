"""Read ``policies/*.yaml`` (or one file) into one validated :class:`Policy`, or explain
precisely what is wrong: every problem, warning and note carries its file and path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.core.policy.checks import check
from bot.core.policy.explain import explain
from bot.core.policy.kubeconfig import read_contexts
from bot.core.policy.model import Policy
from bot.core.policy.report import LoadedPolicy, PolicyLoadError, PolicyProblem
from bot.core.policy.yamlfile import UnreadablePolicyFile, read_mapping

__all__ = ["LoadedPolicy", "PolicyLoadError", "PolicyProblem", "load_policy", "read_policy"]

_SECTIONS = ("roles", "profiles", "clusters", "pools")
_SUFFIXES = (".yaml", ".yml")


def load_policy(path: Path, *, kubeconfig: str = "") -> Policy:
    """The policy in ``path`` (a folder of policy files, or one file); see :func:`read_policy`."""
    return read_policy(path, kubeconfig=kubeconfig).policy


def read_policy(path: Path, *, kubeconfig: str = "") -> LoadedPolicy:
    """Load every ``*.yaml``/``*.yml`` file directly in the folder ``path`` (or the file ``path``)
    and merge them, with the warnings and notes an operator should see.

    Each name (role, profile, cluster) may be defined once across all files; ``defaults`` may
    appear in one file only. ``kubeconfig`` (as in ``KUBECONFIG``) lets each cluster's
    ``context`` be checked against it. Raises :class:`PolicyLoadError` with every problem.
    """
    files, notes = _policy_files(path)
    problems: list[PolicyProblem] = []
    merged: dict[str, Any] = {section: {} for section in _SECTIONS}
    origin: dict[str, str] = {}
    for file in files:
        data = _read(file, problems)
        if data is not None:
            _merge(file, path, data, merged, origin, problems)
    if problems:
        raise PolicyLoadError(problems, notes=notes)

    policy = Policy.model_validate(merged)
    contexts, unreadable = read_contexts(kubeconfig)
    warnings = [PolicyProblem(file, "", message, "warning") for file, message in unreadable]
    for finding in check(policy, contexts):
        found = PolicyProblem(_file_of(finding.path, origin, path), finding.path, finding.message, finding.severity)
        (problems if finding.severity == "error" else warnings).append(found)
    if problems:
        raise PolicyLoadError(problems, tuple(warnings), notes)
    return LoadedPolicy(policy, tuple(warnings), notes)


def _policy_files(path: Path) -> tuple[list[Path], tuple[PolicyProblem, ...]]:
    """The files to read, and a note for everything else in the folder."""
    if path.is_file():
        return [path], ()
    if not path.is_dir():
        raise PolicyLoadError([PolicyProblem(str(path), "", "no such folder or file")])
    files: list[Path] = []
    notes: list[PolicyProblem] = []
    for entry in sorted(path.iterdir()):
        # Hidden entries include Kubernetes' own (..data) in a mounted ConfigMap.
        if entry.name.startswith("."):
            continue
        if entry.suffix in _SUFFIXES:
            files.append(entry)
        elif entry.is_dir():
            notes.append(PolicyProblem(str(entry), "", "skipped: a folder; files in sub-folders are not read", "note"))
        else:
            notes.append(PolicyProblem(str(entry), "", "skipped: only *.yaml and *.yml files are read", "note"))
    if not files:
        raise PolicyLoadError(
            [PolicyProblem(str(path), "", "no policy files (*.yaml or *.yml) found")], notes=tuple(notes)
        )
    return files, tuple(notes)


def _read(file: Path, problems: list[PolicyProblem]) -> dict[str, Any] | None:
    try:
        data = read_mapping(file)
    except UnreadablePolicyFile as exc:
        problems += [PolicyProblem(str(file), where, message) for where, message in exc.problems]
        return None
    try:
        Policy.model_validate(data)
    except ValidationError as exc:
        problems += [
            PolicyProblem(str(file), ".".join(str(part) for part in error["loc"]), explain(error))
            for error in exc.errors()
        ]
        return None
    return data


def _merge(
    file: Path,
    folder: Path,
    data: dict[str, Any],
    merged: dict[str, Any],
    origin: dict[str, str],
    problems: list[PolicyProblem],
) -> None:
    for section in _SECTIONS:
        if data.get(section):
            # A whole section is told against its file, or the folder when several files share it.
            origin[section] = str(file) if origin.get(section, str(file)) == str(file) else str(folder)
        for key, value in (data.get(section) or {}).items():
            dotted = f"{section}.{key}"
            if dotted in origin:
                problems.append(PolicyProblem(str(file), dotted, f"already defined in {origin[dotted]}"))
                continue
            origin[dotted] = str(file)
            merged[section][key] = value
    if "defaults" in data:
        if "defaults" in origin:
            problems.append(PolicyProblem(str(file), "defaults", f"already defined in {origin['defaults']}"))
        else:
            origin["defaults"] = str(file)
            merged["defaults"] = data["defaults"]


def _file_of(dotted: str, origin: dict[str, str], path: Path) -> str:
    """The file that defines ``roles.x`` (for ``roles.x.members``) or ``defaults``; else the folder."""
    parts = dotted.split(".")
    for depth in (2, 1):
        key = ".".join(parts[:depth])
        if key in origin:
            return origin[key]
    return str(path)
