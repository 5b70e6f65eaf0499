"""YAML reading that remembers line numbers, and problems a coordinator can act on.

Coordinators edit YAML by hand; "field required" with no place is useless to them.
Everything here exists so that ``parentline content check`` can answer
``content/resources/county-x.yaml:14: phone "555-12" is not a phone number``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong (or worth a look) in a content file."""

    file: str
    line: int
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        prefix = "" if self.severity == "error" else "warning: "
        return f"{self.file}:{self.line}: {prefix}{self.message}"


class ContentError(Exception):
    """Raised when content cannot be used; carries every problem found, not just the first."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def display_path(path: Path, root: Path | None = None) -> str:
    """A path as a coordinator would type it (relative to the content root's parent)."""
    if root is not None:
        try:
            return str(path.relative_to(root.parent))
        except ValueError:
            pass
    return str(path)


def load_yaml(path: Path, shown_as: str | None = None) -> Any:
    """Parse one YAML file, keeping line information on maps and lists.

    Raises :class:`ContentError` with the line of a syntax error.
    """
    name = shown_as or str(path)
    yaml = YAML(typ="rt")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        problem = Problem(name, 1, "the file is not UTF-8 text; save it as UTF-8")
        raise ContentError([problem]) from None
    try:
        return yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 1) if mark is not None else 1
        what = exc.problem or exc.context or "not valid YAML"
        hint = " (check the indentation and that text with a ':' is in quotes)"
        raise ContentError([Problem(name, line, f"YAML syntax: {what}{hint}")]) from None


def line_of(node: Any, key: Any = None) -> int:
    """1-based line of ``node`` (or of ``key`` inside it); 1 when unknown."""
    try:
        if key is not None and isinstance(node, CommentedMap) and key in node:
            return int(node.lc.key(key)[0]) + 1
        if key is not None and isinstance(node, CommentedSeq) and isinstance(key, int):
            return int(node.lc.item(key)[0]) + 1
        if isinstance(node, CommentedMap | CommentedSeq):
            return int(node.lc.line) + 1
    except (AttributeError, KeyError, IndexError, TypeError):
        pass
    return 1


def line_at(root: Any, loc: Sequence[int | str]) -> int:
    """Line of the deepest node on ``loc`` (a pydantic error location) that exists."""
    node = root
    best = line_of(root)
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            best = line_of(node, part)
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            best = line_of(node, part)
            node = node[part]
        else:
            break
    return best


def plain(node: Any) -> Any:
    """Convert ruamel's commented containers into plain dicts and lists for pydantic."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    return node


def validation_problems(
    err: ValidationError, root: Any, file: str, base_loc: Sequence[int | str] = ()
) -> list[Problem]:
    """Turn a pydantic error into one problem per field, each at its own line."""
    problems: list[Problem] = []
    for item in err.errors():
        loc = [*base_loc, *[p for p in item["loc"] if isinstance(p, int | str)]]
        where = ".".join(str(p) for p in item["loc"]) or "(top)"
        msg = item["msg"]
        if item["type"] == "missing":
            msg = f"'{where}' is missing; add it"
        elif item["type"] == "value_error" and "error" in item.get("ctx", {}):
            # Our own validators already word the message for a coordinator.
            msg = str(item["ctx"]["error"])
        elif item["type"] == "extra_forbidden":
            msg = f"'{where}' is not a known field; check the spelling or remove it"
        else:
            msg = f"'{where}': {msg}"
        problems.append(Problem(file, line_at(root, loc), msg))
    return problems
