"""Read every content file into models, keeping where each thing came from.

Parsing is separate from checking so that one broken file does not hide the
problems in the others: a coordinator fixing content wants the whole list at once.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from flows.content.models import (
    TAXONOMY_FILE,
    Category,
    Experience,
    OpeningHours,
    Resource,
    RightsInfo,
    TaxonomyMap,
    Topic,
)
from flows.content.yamlio import (
    ContentError,
    Problem,
    display_path,
    line_of,
    load_yaml,
    plain,
    validation_problems,
)

DEFAULT_LANGUAGE = "en"
SAFETY_NAMESPACES = frozenset({"crisis", "privacy", "boundary", "safety"})

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class TextEntry:
    """One text in one language, and where to point a coordinator to fix it."""

    value: str | tuple[str, ...]
    file: str
    line: int


@dataclass(frozen=True, slots=True)
class Item(Generic[M]):
    """A validated model with its raw YAML node (for line numbers) and file."""

    model: M
    node: Any
    file: str

    def line(self, *loc: int | str) -> int:
        """Line of a field inside this item (``item.line("hours")``)."""
        node = self.node
        best = line_of(node)
        for part in loc:
            try:
                best = line_of(node, part)
                node = node[part]
            except (KeyError, IndexError, TypeError):
                break
        return best


@dataclass
class Parsed:
    """Everything read from a content folder, valid or not."""

    root: Path
    languages: list[str] = field(default_factory=list)
    texts: dict[str, dict[str, TextEntry]] = field(default_factory=dict)
    namespace_files: dict[tuple[str, str], str] = field(default_factory=dict)
    categories: dict[str, Category] = field(default_factory=dict)
    categories_file: str = "content/resources/categories.yaml"
    resources: list[Item[Resource]] = field(default_factory=list)
    topics: list[Item[Topic]] = field(default_factory=list)
    rights: list[Item[RightsInfo]] = field(default_factory=list)
    experiences: list[Item[Experience]] = field(default_factory=list)
    hours: Item[OpeningHours] | None = None
    taxonomy: Item[TaxonomyMap] | None = None
    problems: list[Problem] = field(default_factory=list)

    def shown(self, path: Path) -> str:
        """A path as a coordinator sees it (``content/...``)."""
        return display_path(path, self.root)


def _load(parsed: Parsed, path: Path) -> Any:
    try:
        return load_yaml(path, parsed.shown(path))
    except ContentError as exc:
        parsed.problems.extend(exc.problems)
        return None


class _Invalid(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems


def _validate(model: type[M], node: Any, file: str) -> M:
    """Validate one YAML node; raises :class:`_Invalid` with one problem per bad field."""
    try:
        return model.model_validate(plain(node))
    except ValidationError as exc:
        raise _Invalid(validation_problems(exc, node, file)) from None


def _items(parsed: Parsed, model: type[M], path: Path, key: str) -> list[Item[M]]:
    """Validate ``key: [ ... ]`` in one file, one problem list per bad item."""
    doc = _load(parsed, path)
    file = parsed.shown(path)
    if doc is None:
        if path.stat().st_size and not any(p.file == file for p in parsed.problems):
            parsed.problems.append(Problem(file, 1, f"the file is empty; expected '{key}:'"))
        return []
    if not isinstance(doc, CommentedMap) or key not in doc:
        parsed.problems.append(
            Problem(file, 1, f"expected a list under '{key}:' at the top of the file")
        )
        return []
    seq = doc[key]
    if not isinstance(seq, CommentedSeq):
        parsed.problems.append(Problem(file, line_of(doc, key), f"'{key}' should be a list"))
        return []
    extra = [k for k in doc if k != key]
    for k in extra:
        parsed.problems.append(
            Problem(file, line_of(doc, k), f"'{k}' is not known here; only '{key}:' is")
        )
    out: list[Item[M]] = []
    for node in seq:
        if not isinstance(node, CommentedMap):
            parsed.problems.append(
                Problem(file, line_of(seq, seq.index(node)), "each entry should be a map")
            )
            continue
        try:
            m = _validate(model, node, file)
        except _Invalid as exc:
            parsed.problems.extend(exc.problems)
            continue
        out.append(Item(m, node, file))
    return out


def placeholders(text: str) -> frozenset[str]:
    """Names of ``{placeholders}`` in a text; ``ValueError`` if the braces are broken."""
    names = set()
    for _lit, name, _spec, _conv in string.Formatter().parse(text):
        if name is None:
            continue
        if name == "" or name.isdigit():
            raise ValueError("use named placeholders like {name}, not {} or {0}")
        names.add(name.split(".")[0].split("[")[0])
    return frozenset(names)


def _flatten(
    parsed: Parsed, node: Any, prefix: str, file: str, out: dict[str, TextEntry], line: int
) -> None:
    if isinstance(node, CommentedMap):
        for k, v in node.items():
            key = f"{prefix}.{k}"
            if isinstance(v, CommentedMap):
                _flatten(parsed, v, key, file, out, line_of(node, k))
            elif isinstance(v, CommentedSeq):
                if not all(isinstance(x, str) for x in v):
                    parsed.problems.append(
                        Problem(
                            file, line_of(node, k), f"'{key}': a list of texts may hold text only"
                        )
                    )
                    continue
                out[key] = TextEntry(tuple(v), file, line_of(node, k))
            elif v is None:
                parsed.problems.append(
                    Problem(
                        file, line_of(node, k), f"'{key}' is empty; write the text or remove it"
                    )
                )
            elif isinstance(v, bool):
                parsed.problems.append(
                    Problem(file, line_of(node, k), f"'{key}': put the text in quotes")
                )
            else:
                out[key] = TextEntry(str(v), file, line_of(node, k))
    elif node is not None:
        parsed.problems.append(Problem(file, line, "a text file should be a map of key: text"))


def _read_texts(parsed: Parsed) -> None:
    base = parsed.root / "texts"
    if not base.is_dir():
        parsed.problems.append(Problem(parsed.shown(base), 1, "the texts folder is missing"))
        return
    parsed.languages = sorted(p.name for p in base.iterdir() if p.is_dir())
    if DEFAULT_LANGUAGE in parsed.languages:  # English first: it is the fallback
        parsed.languages.remove(DEFAULT_LANGUAGE)
        parsed.languages.insert(0, DEFAULT_LANGUAGE)
    else:
        parsed.problems.append(
            Problem(
                parsed.shown(base),
                1,
                f"texts/{DEFAULT_LANGUAGE}/ is missing; English is the fallback",
            )
        )
    for lang in parsed.languages:
        texts: dict[str, TextEntry] = {}
        for path in sorted((base / lang).glob("*.yaml")):
            ns = path.stem
            file = parsed.shown(path)
            parsed.namespace_files[(lang, ns)] = file
            doc = _load(parsed, path)
            _flatten(parsed, doc, ns, file, texts, 1)
        parsed.texts[lang] = texts


def _read_categories(parsed: Parsed, path: Path) -> None:
    parsed.categories_file = parsed.shown(path)
    if not path.exists():
        return
    doc = _load(parsed, path)
    file = parsed.shown(path)
    if not isinstance(doc, CommentedMap) or not isinstance(doc.get("categories"), CommentedMap):
        if doc is not None or path.stat().st_size:
            parsed.problems.append(Problem(file, 1, "expected 'categories:' with one entry per id"))
        return
    cats = doc["categories"]
    for cid, node in cats.items():
        try:
            m = _validate(Category, node, file)
        except _Invalid as exc:
            parsed.problems.extend(exc.problems)
            continue
        parsed.categories[str(cid)] = m


def _read_hours(parsed: Parsed) -> None:
    path = parsed.root / "hours.yaml"
    file = parsed.shown(path)
    if not path.exists():
        parsed.problems.append(Problem(file, 1, "hours.yaml is missing (the line's opening hours)"))
        return
    doc = _load(parsed, path)
    if doc is None:
        return
    try:
        m = _validate(OpeningHours, doc, file)
    except _Invalid as exc:
        parsed.problems.extend(exc.problems)
        return
    parsed.hours = Item(m, doc, file)


def _read_taxonomy(parsed: Parsed, path: Path) -> None:
    """The HSDS import's taxonomy map (optional); its categories are checked later."""
    if not path.exists():
        return
    doc = _load(parsed, path)
    if doc is None:
        return
    file = parsed.shown(path)
    try:
        parsed.taxonomy = Item(_validate(TaxonomyMap, doc, file), doc, file)
    except _Invalid as exc:
        parsed.problems.extend(exc.problems)


def parse_dir(root: Path) -> Parsed:
    """Read the content folder at ``root``; problems are collected, never raised."""
    parsed = Parsed(root=root)
    if not root.is_dir():
        parsed.problems.append(Problem(str(root), 1, "the content folder does not exist"))
        return parsed
    _read_texts(parsed)
    res_dir = root / "resources"
    _read_categories(parsed, res_dir / "categories.yaml")
    _read_taxonomy(parsed, res_dir / TAXONOMY_FILE)
    for path in sorted(res_dir.glob("*.yaml")):
        if path.name not in ("categories.yaml", TAXONOMY_FILE):
            parsed.resources.extend(_items(parsed, Resource, path, "resources"))
    for path in sorted((root / "topics").glob("*.yaml")):
        parsed.topics.extend(_items(parsed, Topic, path, "topics"))
    for path in sorted((root / "rights").glob("*.yaml")):
        parsed.rights.extend(_items(parsed, RightsInfo, path, "rights"))
    experience = root / "experience.yaml"
    if experience.exists():
        parsed.experiences.extend(_items(parsed, Experience, experience, "experiences"))
    _read_hours(parsed)
    return parsed


def read_experience_ids(root: Path) -> tuple[str, ...]:
    """The experience ids of ``root/experience.yaml`` alone (the roster validates staff
    tags against them without loading every content file); invalid entries are skipped."""
    parsed = Parsed(root=root)
    path = root / "experience.yaml"
    if not path.exists():
        return ()
    return tuple(e.model.id for e in _items(parsed, Experience, path, "experiences"))


def content_files(root: Path) -> list[Path]:
    """Every file a reload depends on (for the mtime watcher)."""
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in {".yaml", ".yml"})
