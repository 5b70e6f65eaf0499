"""Compose the crisis reply and the clinical/legal boundary reply.

Which script and which lines each category gets is content
(``content/safety/responses.yaml``); the words are texts (``crisis.*``, ``boundary.*``);
each line is rendered by the content API so it always shows its hours. This module
only puts them together, in a fixed order: the script, the lines, then the honest
sentence that this chat cannot see where the parent is or send help (911 for danger
right now).

A crisis reply must never fail to go out. If a text or a resource is missing (content
check should have caught it), the reply degrades to the general script, and at worst
to a built-in sentence with 988 and 911, rather than raise.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal, Protocol

from flows.safety import active_rules

log = logging.getLogger(__name__)

# Last resort if content is broken: never leave a parent in crisis without a way out.
_FALLBACK = {
    "en": "If you are thinking about suicide or are in crisis, call or text 988 (any time). "
    "If anyone is in danger right now, call 911.",
    "es": "Si estás pensando en el suicidio o estás en crisis, llama o manda un texto al 988 "
    "(a cualquier hora; marca 2 para español). Si alguien está en peligro ahorita, llama al 911.",
}


class ContentAPI(Protocol):
    """The part of :class:`flows.content.Content` the replies use."""

    def text(self, key: str, lang: str, **params: Any) -> str: ...

    def resource(self, resource_id: str) -> Any: ...

    def render_resource(
        self, resource: Any, lang: str, now: datetime, short: bool = False
    ) -> str: ...


def _text(content: ContentAPI, keys: tuple[str, ...], lang: str) -> str | None:
    for key in keys:
        try:
            return content.text(key, lang)
        except KeyError:
            log.error("crisis text %s is missing; falling back", key)
    return None


def _resource_lines(
    content: ContentAPI, ids: tuple[str, ...], lang: str, now: datetime
) -> list[str]:
    lines: list[str] = []
    for rid in ids:
        try:
            res = content.resource(rid)
        except KeyError:
            res = None
        if res is None:
            log.error("crisis resource %s is missing; skipping it", rid)
            continue
        lines.append(content.render_resource(res, lang, now, short=True))
    return lines


def crisis_reply(category: str | None, lang: str, content: ContentAPI, now: datetime, *,
                 categories: Sequence[str] = ()) -> str:
    """The one message a parent gets when screening (or /crisis) finds a crisis.

    ``category`` None means /crisis without a category: the ``general`` reply.
    ``categories`` (an assessment's, most urgent first) may name several: the script is
    the most urgent one's, and the lines are the union of all of theirs, each once, in
    that order (an overdose with suicidal words: 911, Poison Control, then 988).
    """
    plans = active_rules().responses
    names = [c for c in categories if c in plans] or [category or "general"]
    if category and category in plans and category not in names:
        names.insert(0, category)
    plan = plans.get(names[0]) or plans.get("general")
    general = plans.get("general")
    script_keys = tuple(k for k in (plan and plan.script, general and general.script) if k)
    script = _text(content, script_keys, lang)
    if plan is None or script is None:
        return _FALLBACK.get(lang, _FALLBACK["en"])
    ids: list[str] = list(plan.resources)
    for name in names[1:]:
        ids.extend(r for r in plans[name].resources if r not in ids)
    lines = _resource_lines(content, tuple(dict.fromkeys(ids)), lang, now)
    if not lines:
        lines = [_FALLBACK.get(lang, _FALLBACK["en"])]
    parts = [script, "\n".join(lines)]
    location = _text(content, ("crisis.cannot_see_location",), lang)
    if location:
        parts.append(location)
    return "\n\n".join(parts)


def crisis_lines(lang: str, content: ContentAPI, now: datetime) -> str:
    """Only the general 24/7 lines, one per line, for texts that introduce them themselves
    (after hours: "If you need someone now, these lines answer any time: ...")."""
    plan = active_rules().responses.get("general")
    lines = _resource_lines(content, plan.resources, lang, now) if plan else []
    return "\n".join(lines) if lines else _FALLBACK.get(lang, _FALLBACK["en"])


def boundary_reply(kind: Literal["clinical", "legal"], lang: str, content: ContentAPI) -> str:
    """The kind "we can't advise on that, here is who can, and a peer can listen" reply."""
    return content.text(f"boundary.{kind}", lang)
