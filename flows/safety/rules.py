"""Safety rules as content: load, validate and compile ``content/safety/*.yaml``.

What counts as a crisis is knowledge that coordinators and crisis counselors own, not
code. They read and extend these files; this module turns them into compiled regexes
and, when a file is wrong, into problems that say where (``file:line``) and how to fix
it. A rule set with any error is not used at all: the line keeps the last good rules
(see :func:`flows.safety.use_rules`) rather than screen with half of them.

Pattern syntax (documented for coordinators in ``content/safety/README.md``): a regular
expression over the normalized message (lower case, no accents, no apostrophes), always
matched on whole words; ``<name>`` inserts a macro from ``language.yaml``; a pattern may
instead be ``{all: [a, b]}``: every part must appear in the same sentence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flows.content.yamlio import ContentError, Problem, display_path, line_of, load_yaml
from flows.safety.literals import MIN_LITERAL, needles
from flows.safety.normalize import build_textspeak, normalize_pattern

LANGS: tuple[str, ...] = ("en", "es")

CATEGORIES: tuple[str, ...] = (
    "suicide",
    "self_harm",
    "harm_to_child",
    "child_in_danger",
    "domestic_violence",
    "medical_emergency",
    "psychosis",
    "minor",
)
BOUNDARY_KINDS: tuple[str, ...] = ("clinical", "legal")

# The scope lists in language.yaml (each needs en and es).
SCOPE_SECTIONS: tuple[str, ...] = (
    "negation",
    "negation_exceptions",
    "history",
    "current",
    "minor_self",
)

FILES = {
    "language": "language.yaml",
    "crisis": "crisis.yaml",
    "idioms": "idioms.yaml",
    "clinical": "clinical.yaml",
    "nudge": "nudge.yaml",
    "responses": "responses.yaml",
}

_MACRO = re.compile(r"<([a-z_][a-z0-9_]*)>")
_WORD_LEFT = r"(?<![a-z0-9])"
_WORD_RIGHT = r"(?![a-z0-9])"


@dataclass(frozen=True, slots=True)
class Pattern:
    """One compiled pattern: a single regex, or several that must share a sentence."""

    rule_id: str
    lang: str
    parts: tuple[re.Pattern[str], ...]
    # Per part: literals of which one must occur, or None (see flows.safety.literals).
    needles: tuple[frozenset[str] | None, ...] = ()

    def may_match(self, present: frozenset[str]) -> bool:
        """False when the literals found in the text prove this pattern cannot match.

        ``present`` is :meth:`RuleSet.literals_in` of the text (or of a larger text).
        """
        for need in self.needles:
            if need is not None and need.isdisjoint(present):
                return False
        return True

    @property
    def is_all(self) -> bool:
        return len(self.parts) > 1


@dataclass(frozen=True, slots=True)
class Rule:
    """A named group of patterns; its id is what the audit log records as evidence."""

    id: str
    patterns: tuple[Pattern, ...]
    category: str | None = None  # crisis rules
    kind: str | None = None  # clinical rules: "clinical" or "legal"


@dataclass(frozen=True, slots=True)
class ResponsePlan:
    """What a crisis reply for one category says: a script text key and resource ids."""

    script: str
    resources: tuple[str, ...]


_HEAD = MIN_LITERAL


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Everything screening needs, compiled. Immutable, so a reload can swap it atomically."""

    textspeak: tuple[re.Pattern[str], dict[str, str]] | None
    scope: Mapping[str, re.Pattern[str] | None]
    crisis: tuple[Rule, ...]
    idioms: tuple[Rule, ...]
    clinical: tuple[Rule, ...]
    clinical_exceptions: tuple[Rule, ...]
    nudge: tuple[Rule, ...]
    nudge_story: tuple[Rule, ...]
    responses: Mapping[str, ResponsePlan]
    rule_ids: frozenset[str] = field(default_factory=frozenset)
    literals: tuple[str, ...] = ()
    # Every pattern once, as (section, rule, pattern); sections: crisis, idioms, clinical,
    # clinical_exceptions, nudge, nudge_story. ``index`` maps a literal to the positions
    # of the patterns it can unlock; ``always`` are patterns without a pre-check.
    flat: tuple[tuple[str, Rule, Pattern], ...] = ()
    index: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    always: tuple[int, ...] = ()

    # The literals by their first ``_HEAD`` characters, filled in by ``__post_init__``.
    heads: Mapping[str, tuple[str, ...]] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        heads: dict[str, list[str]] = {}
        for lit in self.literals:
            heads.setdefault(lit[:_HEAD], []).append(lit)
        object.__setattr__(self, "heads", {k: tuple(v) for k, v in heads.items()})

    def literals_in(self, text: str) -> frozenset[str]:
        """Which pre-check literals occur in ``text`` (one pass per message).

        Every literal is at least ``_HEAD`` characters long, so only the few that begin
        with the characters at each position of the text need comparing: over a thousand
        ``in`` tests per message became one dictionary lookup per character.
        """
        heads = self.heads
        found: set[str] = set()
        for i in range(len(text) - _HEAD + 1):
            bucket = heads.get(text[i:i + _HEAD])
            if bucket is not None:
                found.update(lit for lit in bucket if text.startswith(lit, i))
        return frozenset(found)

    def candidates(self, text: str) -> dict[str, list[tuple[Rule, Pattern]]]:
        """Per section, the patterns that could match ``text``, in file order."""
        present = self.literals_in(text)
        ids = set(self.always)
        for lit in present:
            ids.update(self.index.get(lit, ()))
        out: dict[str, list[tuple[Rule, Pattern]]] = {}
        for i in sorted(ids):
            section, rule, pat = self.flat[i]
            if pat.is_all and not pat.may_match(present):
                continue
            out.setdefault(section, []).append((rule, pat))
        return out


class _Ctx:
    """Collects problems and remembers where each rule id was first defined."""

    def __init__(self, content_dir: Path) -> None:
        self.content_dir = content_dir
        self.problems: list[Problem] = []
        self.ids: dict[str, str] = {}  # id -> "file:line"
        self.macros: dict[str, str] = {}

    def where(self, path: Path) -> str:
        return display_path(path, self.content_dir)

    def err(self, file: str, line: int, message: str) -> None:
        self.problems.append(Problem(file, line, message))


def _expand(ctx: _Ctx, raw: str, file: str, line: int, rule_id: str) -> str | None:
    unknown = [m.group(1) for m in _MACRO.finditer(raw) if m.group(1) not in ctx.macros]
    if unknown:
        known = ", ".join(f"<{k}>" for k in sorted(ctx.macros)) or "(none)"
        ctx.err(
            file,
            line,
            f"rule '{rule_id}': unknown macro <{unknown[0]}>; known macros are {known} "
            "(define it under 'macros:' in content/safety/language.yaml)",
        )
        return None
    return _MACRO.sub(lambda m: f"(?:{ctx.macros[m.group(1)]})", raw)


def _compile_one(ctx: _Ctx, raw: Any, file: str, line: int, rule_id: str) -> re.Pattern[str] | None:
    if not isinstance(raw, str) or not raw.strip():
        ctx.err(
            file, line, f"rule '{rule_id}': a pattern must be non-empty text; write it in quotes"
        )
        return None
    text = _expand(ctx, normalize_pattern(raw.strip()), file, line, rule_id)
    if text is None:
        return None
    try:
        compiled = re.compile(f"{_WORD_LEFT}(?:{text}){_WORD_RIGHT}")
    except re.error as exc:
        ctx.err(
            file,
            line,
            f"rule '{rule_id}': pattern {raw!r} is not a valid regular expression ({exc.msg}"
            f" at position {exc.pos}); check that every ( has a ) and every [ a ], and put a"
            " backslash before ( ) [ ] ? + * . if you meant the character itself",
        )
        return None
    if compiled.search("") is not None or compiled.search(" ") is not None:
        ctx.err(
            file,
            line,
            f"rule '{rule_id}': pattern {raw!r} matches empty text, so it would match every "
            "message; make at least one word required",
        )
        return None
    return compiled


def _compile_patterns(
    ctx: _Ctx, node: Any, seq_parent: Any, key: str, file: str, rule_id: str, lang: str
) -> list[Pattern]:
    out: list[Pattern] = []
    if not isinstance(node, list):
        ctx.err(
            file,
            line_of(seq_parent, key),
            f"rule '{rule_id}': '{lang}' must be a list of patterns (lines starting with '- ')",
        )
        return out
    for i, item in enumerate(node):
        line = line_of(node, i)
        if isinstance(item, dict):
            extra = set(item) - {"all"}
            parts_raw = item.get("all")
            if extra or not isinstance(parts_raw, list) or len(parts_raw) < 2:
                ctx.err(
                    file,
                    line,
                    f"rule '{rule_id}': a pattern map must be {{all: [first, second, ...]}} with "
                    "at least two patterns that must all appear in one sentence",
                )
                continue
            parts = [
                _compile_one(ctx, p, file, line_of(parts_raw, j), rule_id)
                for j, p in enumerate(parts_raw)
            ]
            if all(p is not None for p in parts):
                done = tuple(p for p in parts if p is not None)
                out.append(Pattern(rule_id, lang, done, tuple(needles(p.pattern) for p in done)))
        else:
            one = _compile_one(ctx, item, file, line, rule_id)
            if one is not None:
                out.append(Pattern(rule_id, lang, (one,), (needles(one.pattern),)))
    return out


def _rules(
    ctx: _Ctx,
    doc: Any,
    section: str,
    path: Path,
    *,
    attr: str | None = None,
    allowed: tuple[str, ...] = (),
) -> list[Rule]:
    """Parse a list of rule groups: ``{id, [attr], note?, en: [...], es: [...]}``."""
    file = ctx.where(path)
    groups = doc.get(section) if isinstance(doc, dict) else None
    if not isinstance(groups, list):
        line = line_of(doc)
        ctx.err(
            file,
            line,
            f"'{section}:' is missing or not a list of rules; add '{section}:' "
            "followed by rules starting with '- id: ...'",
        )
        return []
    out: list[Rule] = []
    for gi, group in enumerate(groups):
        gline = line_of(groups, gi)
        if not isinstance(group, dict):
            ctx.err(
                file,
                gline,
                f"each entry under '{section}:' must be a rule with 'id:', 'en:' and 'es:'",
            )
            continue
        rule_id = group.get("id")
        if not isinstance(rule_id, str) or not rule_id.strip():
            ctx.err(
                file,
                gline,
                "this rule has no 'id:'; give it a short unique name like 'suicide.plan'",
            )
            continue
        idline = line_of(group, "id")
        if rule_id in ctx.ids:
            ctx.err(
                file,
                idline,
                f"duplicate rule id '{rule_id}' (first defined at {ctx.ids[rule_id]}); "
                "rename one of them so the audit log can tell them apart",
            )
            continue
        ctx.ids[rule_id] = f"{file}:{idline}"
        known = {"id", "note", "en", "es"} | ({attr} if attr else set())
        for key in group:
            if key not in known:
                ctx.err(
                    file,
                    line_of(group, key),
                    f"rule '{rule_id}': '{key}' is not a known field "
                    f"(expected {', '.join(sorted(known))}); check the spelling",
                )
        value: str | None = None
        if attr is not None:
            value = group.get(attr)
            if value not in allowed:
                ctx.err(
                    file,
                    line_of(group, attr) if attr in group else idline,
                    f"rule '{rule_id}': {attr} {value!r} is unknown; "
                    f"use one of: {', '.join(allowed)}",
                )
                continue
        patterns: list[Pattern] = []
        for lang in LANGS:
            if lang not in group or group[lang] in (None, []):
                name = "Spanish" if lang == "es" else "English"
                ctx.err(
                    file,
                    idline,
                    f"rule '{rule_id}' has no {name} patterns ('{lang}:'); add at "
                    f"least one so {name}-speaking parents are covered",
                )
                continue
            patterns += _compile_patterns(ctx, group[lang], group, lang, file, rule_id, lang)
        out.append(
            Rule(
                id=rule_id,
                patterns=tuple(patterns),
                category=value if attr == "category" else None,
                kind=value if attr == "kind" else None,
            )
        )
    return out


def _language(ctx: _Ctx, doc: Any, path: Path) -> tuple[Any, dict[str, re.Pattern[str] | None]]:
    file = ctx.where(path)
    scope: dict[str, re.Pattern[str] | None] = {}
    if not isinstance(doc, dict):
        ctx.err(
            file, 1, "language.yaml must be a map with 'macros:', 'textspeak:' and the scope lists"
        )
        return None, scope
    macros = doc.get("macros") or {}
    if not isinstance(macros, dict):
        ctx.err(file, line_of(doc, "macros"), "'macros:' must map a name to a pattern")
        macros = {}
    for name, value in macros.items():
        if (
            not isinstance(name, str)
            or not re.fullmatch(r"[a-z_][a-z0-9_]*", name)
            or not isinstance(value, str)
        ):
            ctx.err(
                file,
                line_of(macros, name),
                f"macro {name!r}: names are lower-case words and values are patterns in quotes",
            )
            continue
        ctx.macros[name] = normalize_pattern(value)
    for name, value in ctx.macros.items():
        try:
            re.compile(value)
        except re.error as exc:
            ctx.err(
                file,
                line_of(macros, name),
                f"macro <{name}> is not a valid regular "
                f"expression ({exc.msg}); check brackets and backslashes",
            )
    textspeak_raw = doc.get("textspeak") or {}
    table: dict[str, str] = {}
    if not isinstance(textspeak_raw, dict):
        ctx.err(
            file,
            line_of(doc, "textspeak"),
            "'textspeak:' must map a spelling to its meaning, e.g. kms: kill myself",
        )
    else:
        for key, value in textspeak_raw.items():
            if not isinstance(key, str) or not isinstance(value, str):
                ctx.err(
                    file, line_of(textspeak_raw, key), f"textspeak {key!r}: both sides must be text"
                )
                continue
            table[normalize_pattern(key).lower()] = normalize_pattern(value).lower()
    for section in SCOPE_SECTIONS:
        node = doc.get(section)
        if not isinstance(node, dict):
            ctx.err(
                file,
                line_of(doc, section) if section in doc else 1,
                f"'{section}:' is missing; add it with 'en:' and 'es:' lists",
            )
            scope[section] = None
            continue
        compiled: list[re.Pattern[str]] = []
        for lang in LANGS:
            if not node.get(lang):
                name = "Spanish" if lang == "es" else "English"
                ctx.err(
                    file,
                    line_of(doc, section),
                    f"'{section}:' has no {name} list ('{lang}:'); add one",
                )
                continue
            for pat in _compile_patterns(ctx, node[lang], node, lang, file, section, lang):
                compiled.extend(pat.parts)
        scope[section] = _union(compiled)
    return build_textspeak(table), scope


def _union(patterns: Iterable[re.Pattern[str]]) -> re.Pattern[str] | None:
    """One alternation of already word-bounded patterns (fast "does any of these occur?")."""
    sources = [p.pattern for p in patterns]
    return re.compile("|".join(sources)) if sources else None


def _responses(ctx: _Ctx, doc: Any, path: Path) -> dict[str, ResponsePlan]:
    file = ctx.where(path)
    out: dict[str, ResponsePlan] = {}
    node = doc.get("categories") if isinstance(doc, dict) else None
    if not isinstance(node, dict):
        ctx.err(
            file,
            line_of(doc),
            "'categories:' is missing; map each crisis category to "
            "{script: crisis.x, resources: [id, ...]}",
        )
        return out
    for name, entry in node.items():
        line = line_of(node, name)
        if name != "general" and name not in CATEGORIES:
            ctx.err(
                file,
                line,
                f"unknown category '{name}'; use one of: general, {', '.join(CATEGORIES)}",
            )
            continue
        if not isinstance(entry, dict) or not isinstance(entry.get("script"), str):
            ctx.err(file, line, f"'{name}': needs 'script:' (a text key like crisis.{name})")
            continue
        resources = entry.get("resources", [])
        if not isinstance(resources, list) or not all(isinstance(r, str) for r in resources):
            ctx.err(
                file,
                line_of(entry, "resources"),
                f"'{name}': 'resources:' must be a list of resource ids",
            )
            continue
        out[str(name)] = ResponsePlan(entry["script"], tuple(resources))
    for name in ("general", *CATEGORIES):
        if name not in out and not any(p.file == file for p in ctx.problems):
            ctx.err(
                file,
                line_of(node),
                f"category '{name}' has no reply; add '{name}:' with a script and resources",
            )
    return out


def load_rules(content_dir: Path) -> tuple[RuleSet | None, list[Problem]]:
    """Load and validate ``content_dir/safety/*.yaml``.

    Returns the rule set (``None`` if there was any error) and every problem found, so
    ``parentline content check`` can list them all at once.
    """
    ctx = _Ctx(content_dir)
    base = content_dir / "safety"
    docs: dict[str, Any] = {}
    for key, name in FILES.items():
        path = base / name
        if not path.is_file():
            ctx.err(ctx.where(path), 1, f"missing file; safety screening needs {name} in {base}")
            docs[key] = None
            continue
        try:
            docs[key] = load_yaml(path, ctx.where(path))
        except ContentError as exc:
            ctx.problems.extend(exc.problems)
            docs[key] = None
    if any(v is None for v in docs.values()):
        return None, ctx.problems

    textspeak, scope = _language(ctx, docs["language"], base / FILES["language"])
    crisis = _rules(
        ctx, docs["crisis"], "rules", base / FILES["crisis"], attr="category", allowed=CATEGORIES
    )
    idioms = _rules(ctx, docs["idioms"], "idioms", base / FILES["idioms"])
    clinical = _rules(
        ctx,
        docs["clinical"],
        "rules",
        base / FILES["clinical"],
        attr="kind",
        allowed=BOUNDARY_KINDS,
    )
    clinical_exc = _rules(
        ctx, docs["clinical"], "not_a_question_for_a_professional", base / FILES["clinical"]
    )
    nudge = _rules(ctx, docs["nudge"], "advice", base / FILES["nudge"])
    story = _rules(ctx, docs["nudge"], "own_story", base / FILES["nudge"])
    responses = _responses(ctx, docs["responses"], base / FILES["responses"])

    if ctx.problems:
        return None, ctx.problems
    sections = {
        "crisis": crisis,
        "idioms": idioms,
        "clinical": clinical,
        "clinical_exceptions": clinical_exc,
        "nudge": nudge,
        "nudge_story": story,
    }
    flat = [
        (name, rule, pat)
        for name, rules in sections.items()
        for rule in rules
        for pat in rule.patterns
    ]
    index: dict[str, list[int]] = {}
    always: list[int] = []
    for i, (_name, _rule, pat) in enumerate(flat):
        first = next((n for n in pat.needles if n is not None), None)
        if first is None:
            always.append(i)
            continue
        for lit in first:
            index.setdefault(lit, []).append(i)
    return (
        RuleSet(
            textspeak=textspeak,
            scope=scope,
            crisis=tuple(crisis),
            idioms=tuple(idioms),
            clinical=tuple(clinical),
            clinical_exceptions=tuple(clinical_exc),
            nudge=tuple(nudge),
            nudge_story=tuple(story),
            responses=responses,
            rule_ids=frozenset(ctx.ids),
            literals=tuple(sorted({lit for p in flat for n in p[2].needles if n for lit in n})),
            flat=tuple(flat),
            index={k: tuple(v) for k, v in index.items()},
            always=tuple(always),
        ),
        [],
    )
