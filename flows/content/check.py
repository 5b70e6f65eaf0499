"""Checks across fields and files: the graph, not just the shapes.

Pydantic tells us a field has the right type. These checks tell a coordinator what
would hurt a parent: a crisis message offering a line that is closed at night, a
phone number that cannot be dialled, a safety text missing in Spanish, a number
nobody has confirmed for years. Each problem says where and how to fix it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from flows.content.models import Resource
from flows.content.parse import (
    DEFAULT_LANGUAGE,
    SAFETY_NAMESPACES,
    Item,
    Parsed,
    parse_dir,
    placeholders,
)
from flows.content.render import REQUIRED_TEXTS
from flows.content.replies import check_replies
from flows.content.yamlio import ContentError, Problem, line_of, load_yaml

_PHONE_CHARS = re.compile(r"^\+?[\d\s().-]+$")
# Words that belong to a clinician, not to a peer line's suggestions.
_CLINICAL = re.compile(
    r"\b(dosage|dose|\d+\s?mg|prescribe\w*|milligram\w*|dosis|recetar\w*)\b",
    re.IGNORECASE,
)
MAX_TEXT_CHARS = 3500  # Telegram allows 4096; leave room for formatting and a footer


def phone_ok(value: str) -> bool:
    """Dialable US numbers: 3-digit (988, 911), short codes (741741), 10/11 digits.

    Formatting (dashes, spaces, parentheses) is only allowed on full numbers, so
    ``555-12`` (a typo, not a short code) is rejected.
    """
    text = value.strip()
    if not _PHONE_CHARS.match(text):
        return False
    digits = re.sub(r"\D", "", text)
    formatted = digits != text.lstrip("+")
    if len(digits) == 10 or (len(digits) == 11 and digits.startswith("1")):
        return True
    return not formatted and len(digits) in (3, 5, 6)


# A button's data is at most 64 bytes: "mr|<id>|<8-character signature>".
MAX_REMINDABLE_ID = 52


def _langs(
    problems: list[Problem], item: Item[Any], field: str, value: Any, langs: list[str]
) -> None:
    """Warn about a language missing from a per-language field, error on unknown ones."""
    if value is None:
        return
    for lang in langs:
        if lang not in value or not value[lang]:
            problems.append(
                Problem(
                    item.file,
                    item.line(field),
                    f"'{field}' has no {lang} text; parents writing in {lang} will see English",
                    "warning",
                )
            )
    for lang in value:
        if lang not in langs:
            problems.append(
                Problem(
                    item.file,
                    item.line(field, lang),
                    f"'{field}': unknown language '{lang}' (known: {', '.join(langs)})",
                )
            )


def _dates(
    problems: list[Problem], item: Item[Any], verified: date, max_age_days: int, today: date
) -> None:
    what = getattr(item.model, "id", "?")
    if verified > today + timedelta(days=1):
        problems.append(
            Problem(
                item.file,
                item.line("verified_on"),
                f"'{what}': verified_on {verified} is in the future; "
                "write the date someone actually checked it",
            )
        )
    elif verified < today - timedelta(days=max_age_days):
        problems.append(
            Problem(
                item.file,
                item.line("verified_on"),
                f"'{what}': verified_on {verified} is more than {max_age_days} days ago; "
                "call or check the source again and update the date",
                "warning",
            )
        )


def _duplicates(problems: list[Problem], items: Iterable[Item[Any]], what: str) -> None:
    seen: dict[str, Item[Any]] = {}
    for item in items:
        ident = item.model.id
        if ident in seen:
            first = seen[ident]
            problems.append(
                Problem(
                    item.file,
                    item.line("id"),
                    f'duplicate {what} id "{ident}" '
                    f"(first used at {first.file}:{first.line('id')}); "
                    "give each one its own id",
                )
            )
        else:
            seen[ident] = item


def _check_texts(parsed: Parsed, problems: list[Problem]) -> None:
    langs = parsed.languages
    if DEFAULT_LANGUAGE not in parsed.texts:
        return
    keys: dict[str, None] = {}
    for lang in langs:
        keys.update(dict.fromkeys(parsed.texts[lang]))
    for key in keys:
        ns = key.split(".", 1)[0]
        critical = ns in SAFETY_NAMESPACES
        reference = None
        for lang in langs:
            entry = parsed.texts[lang].get(key)
            if entry is None:
                have = [x for x in langs if key in parsed.texts[x]]
                file = parsed.namespace_files.get((lang, ns), f"content/texts/{lang}/{ns}.yaml")
                if critical:
                    problems.append(
                        Problem(
                            file,
                            1,
                            f'safety-critical text "{key}" is missing in {lang} '
                            f"(it exists in {', '.join(have)}); add it to this file",
                        )
                    )
                else:
                    problems.append(
                        Problem(
                            file,
                            1,
                            f'text "{key}" is missing in {lang}; English will be shown instead',
                            "warning",
                        )
                    )
                continue
            values = entry.value if isinstance(entry.value, tuple) else (entry.value,)
            try:
                names = frozenset().union(*(placeholders(v) for v in values))
            except ValueError as exc:
                problems.append(
                    Problem(
                        entry.file,
                        entry.line,
                        f'text "{key}": {exc}; write {{{{ or }}}} for a literal brace',
                    )
                )
                continue
            if any(len(v) > MAX_TEXT_CHARS for v in values):
                problems.append(
                    Problem(
                        entry.file,
                        entry.line,
                        f'text "{key}" is longer than {MAX_TEXT_CHARS} characters; '
                        "shorten or split it",
                    )
                )
            if reference is None:
                reference = (lang, names)
            elif names != reference[1]:
                problems.append(
                    Problem(
                        entry.file,
                        entry.line,
                        f'text "{key}" in {lang} has placeholders {_braces(names)} but '
                        f"{reference[0]} has {_braces(reference[1])}; "
                        "use the same {names} in every language "
                        "(translate the words, not the names)",
                    )
                )
    for key in REQUIRED_TEXTS:
        if key not in parsed.texts[DEFAULT_LANGUAGE]:
            ns = key.split(".", 1)[0]
            problems.append(
                Problem(
                    f"content/texts/{DEFAULT_LANGUAGE}/{ns}.yaml",
                    1,
                    f'text "{key}" is missing; the bot needs it',
                )
            )


def _braces(names: Iterable[str]) -> str:
    return ", ".join("{" + n + "}" for n in sorted(names)) or "none"


def _check_resource(
    parsed: Parsed, item: Item[Resource], problems: list[Problem], max_age: int, today: date
) -> None:
    r = item.model
    for i, c in enumerate(r.contact):
        if c.type in ("phone", "text") and not phone_ok(c.value):
            problems.append(
                Problem(
                    item.file,
                    item.line("contact", i, "value"),
                    f'{c.type} "{c.value}" is not a phone number (expected e.g. 1-800-799-7233'
                    + (", or a short code like 741741)" if c.type == "text" else ")"),
                )
            )
        if c.type == "email" and "@" not in c.value:
            problems.append(
                Problem(item.file, item.line("contact", i, "value"), f'email "{c.value}" has no @')
            )
        if c.type in ("web", "chat") and not re.match(r"^(https?://)?[\w.-]+\.\w{2,}", c.value):
            problems.append(
                Problem(
                    item.file,
                    item.line("contact", i, "value"),
                    f'web address "{c.value}" does not look like one '
                    "(expected e.g. 988lifeline.org)",
                )
            )
        if c.keyword and c.type != "text":
            problems.append(
                Problem(
                    item.file,
                    item.line("contact", i, "keyword"),
                    "'keyword' is only for text lines (type: text)",
                )
            )
        for lang in c.note or {}:  # a note is an extra: only unknown languages are wrong
            if lang not in parsed.languages:
                problems.append(
                    Problem(
                        item.file,
                        item.line("contact", i, "note", lang),
                        f"'contact.{i}.note': unknown language '{lang}'",
                    )
                )
    if r.crisis and not r.always_open:
        problems.append(
            Problem(
                item.file,
                item.line("hours"),
                f'"{r.id}" is marked crisis: true but is not open 24/7; only 24/7 lines may '
                "appear in a crisis message (set hours: {always: true} or crisis: false)",
            )
        )
    for i, cat in enumerate(r.categories):
        if cat not in parsed.categories:
            problems.append(
                Problem(
                    item.file,
                    item.line("categories", i),
                    f'category "{cat}" is not in {parsed.categories_file}; fix the spelling '
                    f"or add it there (known: {', '.join(sorted(parsed.categories))})",
                )
            )
    for i, z in enumerate(item.node.get("serves", {}).get("zip_prefixes", []) or []):
        if not isinstance(z, str) or not z.isdigit():
            problems.append(
                Problem(
                    item.file,
                    item.line("serves", "zip_prefixes", i),
                    f'zip prefix {z!r} should be digits in quotes, e.g. "941" '
                    "(without quotes a leading 0 is lost)",
                )
            )
    if not r.serves.national and not (
        r.serves.states or r.serves.counties or r.serves.zip_prefixes
    ):
        problems.append(
            Problem(
                item.file,
                item.line("serves"),
                f'"{r.id}" serves nobody: set national: true '
                "or list states, counties or zip_prefixes",
            )
        )
    if r.kind == "support_group" and (r.schedule is None or r.format is None):
        problems.append(
            Problem(
                item.file,
                item.line("kind"),
                f'support group "{r.id}" should have a schedule '
                "and a format (in_person, online, both)",
                "warning",
            )
        )
    if not r.source.strip():
        problems.append(
            Problem(
                item.file, item.line("source"), "'source' is empty; say where the number came from"
            )
        )
    for field in ("name", "description", "cost", "schedule"):
        _langs(problems, item, field, getattr(r, field), parsed.languages)
    if r.meetings is not None:
        _langs(problems, item, "meetings", r.meetings.join, parsed.languages)
        if len(r.id.encode()) > MAX_REMINDABLE_ID:
            problems.append(Problem(
                item.file, item.line("id"),
                f'"{r.id}" is too long for a "remind me" button: keep group ids to '
                f"{MAX_REMINDABLE_ID} characters",
                "warning",
            ))
    _dates(problems, item, r.verified_on, max_age, today)


def _check_experiences(parsed: Parsed, problems: list[Problem], topic_ids: set[str]) -> None:
    """Each experience has a label in every language; a topic has one default at most."""
    _duplicates(problems, parsed.experiences, "experience")
    default_of: dict[str, str] = {}
    for item in parsed.experiences:
        e = item.model
        _langs(problems, item, "label", e.label, parsed.languages)
        for i, tid in enumerate(e.topics):
            if tid not in topic_ids:
                problems.append(Problem(item.file, item.line("topics", i),
                                        f'topic "{tid}" does not exist; fix the id'))
            elif tid in default_of:
                problems.append(Problem(
                    item.file, item.line("topics", i),
                    f'topic "{tid}" already defaults to experience "{default_of[tid]}"; '
                    "a topic can have one default experience"))
            else:
                default_of[tid] = e.id


def validate(
    parsed: Parsed, *, max_age_days: int = 365, today: date | None = None
) -> list[Problem]:
    """All cross-field and cross-file problems in ``parsed`` (parse problems not included)."""
    today = today or date.today()
    problems: list[Problem] = []
    _check_texts(parsed, problems)
    problems += check_replies(parsed.texts, parsed.languages, parsed.namespace_files)
    langs = parsed.languages
    _duplicates(problems, parsed.resources, "resource")
    for res in parsed.resources:
        _check_resource(parsed, res, problems, max_age_days, today)
    if parsed.categories:
        for cid, cat in parsed.categories.items():
            for lang in langs:
                if lang not in cat.label:
                    problems.append(
                        Problem(
                            parsed.categories_file,
                            1,
                            f'category "{cid}" has no {lang} label',
                            "warning",
                        )
                    )
    elif parsed.resources:
        problems.append(
            Problem(parsed.categories_file, 1, "the category list is missing; resources need it")
        )
    if parsed.taxonomy is not None:
        tax = parsed.taxonomy
        for term, cats in tax.model.terms.items():
            for i, cat_id in enumerate(cats):
                if cat_id not in parsed.categories:
                    problems.append(
                        Problem(
                            tax.file,
                            tax.line("terms", term, i),
                            f'"{term}" maps to category "{cat_id}", which is not in '
                            f"{parsed.categories_file}; fix the spelling or add it there",
                        )
                    )
    rights_ids = {r.model.id for r in parsed.rights}
    topic_ids = {t.model.id for t in parsed.topics}
    _duplicates(problems, parsed.topics, "topic")
    for topic in parsed.topics:
        t = topic.model
        for field in ("title", "keywords", "reflection", "strength_question", "next_steps"):
            _langs(problems, topic, field, getattr(t, field), langs)
        for lang, steps in t.next_steps.items():
            if not 3 <= len(steps) <= 4:
                problems.append(
                    Problem(
                        topic.file,
                        topic.line("next_steps", lang),
                        f'topic "{t.id}": offer 3 or 4 small next steps in {lang} '
                        f"(found {len(steps)})",
                        "warning",
                    )
                )
        for i, cat_id in enumerate(t.resource_categories):
            if cat_id not in parsed.categories:
                problems.append(
                    Problem(
                        topic.file,
                        topic.line("resource_categories", i),
                        f'category "{cat_id}" is not in {parsed.categories_file}; '
                        "fix the spelling or add it there",
                    )
                )
        for i, rid in enumerate(t.rights):
            if rid not in rights_ids:
                problems.append(
                    Problem(
                        topic.file,
                        topic.line("rights", i),
                        f'rights "{rid}" does not exist in content/rights/; fix the id',
                    )
                )
        words = [*t.reflection.values(), *t.strength_question.values()]
        words += [s for steps in t.next_steps.values() for s in steps]
        for text in words:
            m = _CLINICAL.search(text)
            if m:
                problems.append(
                    Problem(
                        topic.file,
                        topic.line(),
                        f'topic "{t.id}" mentions "{m.group(0)}": peers never give clinical '
                        "advice (diagnosis, medication, dosage); reword it",
                        "warning",
                    )
                )
    _check_experiences(parsed, problems, topic_ids)
    _duplicates(problems, parsed.rights, "rights")
    for right in parsed.rights:
        ri = right.model
        _langs(problems, right, "title", ri.title, langs)
        _langs(problems, right, "body", ri.body, langs)
        _dates(problems, right, ri.verified_on, max_age_days, today)
        for i, tid in enumerate(ri.topics):
            if tid not in topic_ids:
                problems.append(
                    Problem(
                        right.file,
                        right.line("topics", i),
                        f'topic "{tid}" does not exist; fix the id',
                    )
                )
    return problems


def safety_rules(root: Path) -> tuple[Any, list[Problem]]:
    """Load the safety rules if the safety package provides a loader.

    Imported lazily so content works before (and without) ``flows.safety.rules``; a
    crash inside it becomes a problem rather than taking the content check down.
    """
    try:
        from flows.safety import rules  # type: ignore[attr-defined, unused-ignore]
    except ImportError as exc:
        if exc.name in ("flows.safety.rules", "flows.safety"):
            return None, []
        raise
    load = getattr(rules, "load_rules", None)
    if load is None:
        return None, []
    try:
        ruleset, problems = load(root)
    except Exception as exc:  # the rules are someone else's code; report, don't crash
        return None, [
            Problem(f"{root.name}/safety", 1, f"safety rules could not be loaded: {exc!r}")
        ]
    return ruleset, list(problems)


def safety_model(root: Path) -> tuple[Any, list[Problem]]:
    """Load the risk model beside the rules, and say if it is missing, broken or stale.

    Imported lazily for the same reason as :func:`safety_rules`.
    """
    try:
        from flows.safety.model_check import load_model
    except ImportError as exc:  # pragma: no cover - numpy missing
        return None, [Problem(f"{root.name}/safety", 1, f"risk model unavailable: {exc}")]
    try:
        return load_model(root)
    except Exception as exc:
        return None, [Problem(f"{root.name}/safety", 1, f"risk model check failed: {exc!r}")]


def check_responses(parsed: Parsed, ruleset: Any) -> list[Problem]:
    """Check the safety rules' crisis replies against the content they point at.

    A crisis reply may only offer resources that exist, are marked ``crisis: true`` and
    are open 24/7, and its script text must exist. Skipped when the rule set does not
    expose ``responses`` (the safety package owns that shape).
    """
    responses = getattr(ruleset, "responses", None)
    if not isinstance(responses, Mapping):
        return []
    path = parsed.root / "safety" / "responses.yaml"
    file = parsed.shown(path)
    try:
        doc = load_yaml(path, file)
    except (ContentError, OSError):
        doc = None
    cats = doc.get("categories") if isinstance(doc, Mapping) else None
    by_id = {r.model.id: r.model for r in parsed.resources}
    problems: list[Problem] = []
    for name, plan in responses.items():
        entry = cats.get(name) if isinstance(cats, Mapping) else None
        script = getattr(plan, "script", None)
        if isinstance(script, str) and script not in parsed.texts.get(DEFAULT_LANGUAGE, {}):
            problems.append(
                Problem(
                    file,
                    line_of(entry, "script") if entry is not None else 1,
                    f'crisis reply "{name}": text "{script}" does not exist; fix the key',
                )
            )
        for i, rid in enumerate(getattr(plan, "resources", ()) or ()):
            line = line_of(entry.get("resources"), i) if isinstance(entry, Mapping) else 1
            res = by_id.get(rid)
            if res is None:
                problems.append(
                    Problem(file, line, f'crisis reply "{name}": resource "{rid}" does not exist')
                )
            elif not (res.crisis and res.always_open):
                problems.append(
                    Problem(
                        file,
                        line,
                        f'crisis reply "{name}": "{rid}" is not a 24/7 crisis line; '
                        "only lines with crisis: true and hours: {always: true} may be offered",
                    )
                )
    return problems


def check_content(
    dir: Path, *, max_age_days: int = 365, today: date | None = None
) -> list[Problem]:
    """Every problem in the content folder: errors and warnings (``Problem.severity``)."""
    parsed = parse_dir(Path(dir))
    problems = list(parsed.problems)
    problems += validate(parsed, max_age_days=max_age_days, today=today)
    ruleset, rule_problems = safety_rules(Path(dir))
    problems += rule_problems
    if ruleset is not None:
        problems += check_responses(parsed, ruleset)
    problems += safety_model(Path(dir))[1]
    return problems


def errors(problems: Iterable[Problem]) -> list[Problem]:
    """Only the problems that block loading."""
    return [p for p in problems if p.severity == "error"]
