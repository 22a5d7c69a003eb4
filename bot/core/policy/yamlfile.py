"""Read one policy file as a YAML mapping, refusing what PyYAML would silently accept.

PyYAML keeps the last of two equal keys in a mapping, so a second ``roles:`` block deletes
the first without a word; here every repeated key is a problem, with both line numbers.
Merge keys (``<<: *base``) may still be overridden: that is what they are for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = ["UnreadablePolicyFile", "read_mapping"]

_MERGE = "tag:yaml.org,2002:merge"


class UnreadablePolicyFile(Exception):
    """``problems``: (path in the file, or a line, and what is wrong) pairs; at least one."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{where}: {what}" if where else what for where, what in problems))


def read_mapping(path: Path) -> dict[str, Any]:
    """The file's top-level mapping (``{}`` for an empty file), or :class:`UnreadablePolicyFile`."""
    text = _text(path)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return {}
        repeated = list(_repeated_keys(node, (), set()))
        if repeated:
            raise UnreadablePolicyFile(repeated)
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise UnreadablePolicyFile([_yaml_problem(exc, text)]) from None
    finally:
        loader.dispose()
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UnreadablePolicyFile([("", "the top level must be a mapping (roles:, profiles:, clusters:, defaults:)")])
    return data


def _text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        raise UnreadablePolicyFile([("", "is a folder, not a policy file; rename it or move it elsewhere")]) from None
    except FileNotFoundError:
        if path.is_symlink():
            target = path.readlink()
            raise UnreadablePolicyFile(
                [("", f"is a broken symbolic link (to {target}, which does not exist)")]
            ) from None
        raise UnreadablePolicyFile([("", "disappeared while it was being read")]) from None
    except OSError as exc:
        raise UnreadablePolicyFile([("", f"cannot be read ({exc.strerror or exc})")]) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        byte = raw[exc.start]
        raise UnreadablePolicyFile(
            [(f"line {line}", f"is not UTF-8 text (byte 0x{byte:02x}); save the file as UTF-8")]
        ) from None


def _yaml_problem(exc: yaml.YAMLError, text: str) -> tuple[str, str]:
    mark = getattr(exc, "problem_mark", None)
    problem = str(getattr(exc, "problem", None) or exc)
    if mark is None:
        return "", f"not valid YAML ({problem})"
    where = f"line {mark.line + 1}, column {mark.column + 1}"
    lines = text.splitlines()
    line = lines[mark.line] if mark.line < len(lines) else ""
    indentation = line[: len(line) - len(line.lstrip(" \t"))]
    if "\t" in indentation or "'\\t'" in problem:
        return where, "not valid YAML: a tab in the indentation; indent with spaces, not tabs"
    return where, f"not valid YAML ({problem})"


def _repeated_keys(node: Node, path: tuple[str, ...], seen: set[int]) -> list[tuple[str, str]]:
    """Every key that appears twice in one mapping, at any depth, as (dotted path, lines)."""
    if id(node) in seen:  # an alias to a node already walked, or a recursive one
        return []
    seen.add(id(node))
    found: list[tuple[str, str]] = []
    if isinstance(node, MappingNode):
        first_line: dict[tuple[str, str], int] = {}
        for key_node, value_node in node.value:
            key = _key(key_node)
            if key_node.tag != _MERGE and key is not None:
                line = key_node.start_mark.line + 1
                if key in first_line:
                    dotted = ".".join((*path, key[1]))
                    fix = "merge the two" if isinstance(value_node, MappingNode) else "keep one"
                    found.append(
                        (
                            dotted,
                            f"appears twice (lines {first_line[key]} and {line}); "
                            f"YAML would silently keep only the second, so {fix}",
                        )
                    )
                else:
                    first_line[key] = line
            child = (*path, key[1]) if key is not None else path
            found += _repeated_keys(value_node, child, seen)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            found += _repeated_keys(item, (*path, str(index)), seen)
    return found


def _key(node: Node) -> tuple[str, str] | None:
    """A scalar key as (its resolved type, its text); other keys are not compared."""
    if isinstance(node, ScalarNode):
        return (node.tag, str(node.value))
    return None
