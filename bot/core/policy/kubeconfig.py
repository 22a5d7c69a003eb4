"""The context names a kubeconfig offers, read as plain YAML: no cluster is contacted."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from bot.core.policy.checks import KnownContexts

__all__ = ["read_contexts"]


def read_contexts(kubeconfig: str) -> tuple[KnownContexts | None, list[tuple[str, str]]]:
    """``kubeconfig`` as in ``KUBECONFIG``: one or more files joined by the path separator.

    Returns the contexts (``None`` when there is no kubeconfig, or one cannot be read, so that
    no context is reported missing on a guess) and (file, problem) pairs for unreadable files.
    Files that do not exist are skipped, as kubectl skips them.
    """
    files = [Path(part) for part in kubeconfig.split(os.pathsep) if part]
    names: set[str] = set()
    problems: list[tuple[str, str]] = []
    read = 0
    for file in files:
        if not file.exists():
            continue
        try:
            data = yaml.safe_load(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            reason = getattr(exc, "strerror", None) or type(exc).__name__
            problems.append((str(file), f"cannot be read ({reason}), so policy contexts were not checked against it"))
            continue
        read += 1
        entries = data.get("contexts") if isinstance(data, dict) else None
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                names.add(entry["name"])
    if problems or not read:
        return None, problems
    return KnownContexts(frozenset(names), os.pathsep.join(str(f) for f in files)), problems
