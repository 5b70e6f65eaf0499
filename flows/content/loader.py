"""Build a :class:`Content` from a folder, or refuse with every problem found."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from flows.content.check import check_responses, errors, safety_model, safety_rules, validate
from flows.content.content import Content
from flows.content.parse import parse_dir
from flows.content.yamlio import ContentError


def load_content(dir: Path, *, max_age_days: int = 365, today: date | None = None) -> Content:
    """Load and validate the content folder; raise :class:`ContentError` on any error.

    Warnings (a stale ``verified_on``, a text missing in Spanish) do not block loading;
    they are kept on ``Content.problems`` for the dashboard and logs.
    """
    root = Path(dir)
    parsed = parse_dir(root)
    problems = list(parsed.problems)
    problems += validate(parsed, max_age_days=max_age_days, today=today)
    ruleset, rule_problems = safety_rules(root)
    problems += rule_problems
    if ruleset is not None:
        problems += check_responses(parsed, ruleset)
    model, model_problems = safety_model(root)
    problems += model_problems
    if errors(problems) or parsed.hours is None:
        raise ContentError(errors(problems) or problems)
    texts = {
        lang: {key: entry.value for key, entry in entries.items()}
        for lang, entries in parsed.texts.items()
    }
    return Content(
        root=root,
        languages=tuple(parsed.languages),
        texts=texts,
        topics=tuple(t.model for t in parsed.topics),
        resources=tuple(r.model for r in parsed.resources),
        rights=tuple(r.model for r in parsed.rights),
        experiences=tuple(e.model for e in parsed.experiences),
        hours=parsed.hours.model,
        categories=dict(parsed.categories),
        safety_rules=ruleset,
        risk_model=model,
        problems=tuple(problems),
    )
