"""Pure handoff rules: who waits first, who fits whom, how long, and when to say so.

No database and no clock here: the services pass in small snapshots, so every rule
about fairness (crisis first, then the longest wait) and fit (language, lived
experience, a returning parent's previous peer) is tested as plain data.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

# A rough figure for how long a peer conversation holds a slot; only used to give the
# parent an honest "about N minutes", never to promise anything.
MINUTES_PER_CONVERSATION = 20
# /next looks a few places down the queue for a better fit, never further, so a parent
# without a special request is not passed over for long.
FIT_WINDOW = 3

_LANG_FIT = 100
_PREVIOUS_PEER = 40
_EXPERIENCE_FIT = 20  # the topic's default experience (content/experience.yaml)
_CHOSEN_EXPERIENCE_FIT = 60  # the parent asked for it themselves


@dataclass(frozen=True, slots=True)
class StaffView:
    """What matching needs to know about one staff member."""

    id: int
    languages: tuple[str, ...]
    experience: tuple[str, ...] = ()
    active: int = 0
    max_active: int = 3
    on_duty: bool = True
    paused: bool = False


@dataclass(frozen=True, slots=True)
class QueueView:
    """What ordering and matching need to know about one waiting conversation."""

    id: int
    queued_at: datetime
    lang: str = "en"
    crisis: bool = False
    front: bool = False
    requested_experience: str | None = None
    experience_only: bool = False  # the parent chose it and waits for such a peer
    preferred_staff_id: int | None = None
    any_language_ok: bool = False
    declined_by: tuple[int, ...] = field(default_factory=tuple)


def queue_key(c: QueueView) -> tuple[bool, bool, datetime, int]:
    """Crisis first; then parents sent back to the front; then the longest wait."""
    return (not c.crisis, not c.front, c.queued_at, c.id)


def order_queue(items: Iterable[QueueView]) -> list[QueueView]:
    return sorted(items, key=queue_key)


def has_room(active: int, max_active: int) -> bool:
    """A specialist below their cap may take one more conversation."""
    return active < max_active


def can_take(s: StaffView) -> bool:
    """On duty, not paused, and under their cap."""
    return s.on_duty and not s.paused and has_room(s.active, s.max_active)


def speaks(s: StaffView, lang: str) -> bool:
    return lang in s.languages


def fit_score(s: StaffView, c: QueueView) -> int | None:
    """How well ``s`` fits ``c`` (higher is better); ``None`` when ``s`` declined it."""
    if s.id in c.declined_by:
        return None
    score = 0
    if speaks(s, c.lang):
        score += _LANG_FIT
    if c.preferred_staff_id == s.id:
        score += _PREVIOUS_PEER
    if c.requested_experience and c.requested_experience in s.experience:
        score += _CHOSEN_EXPERIENCE_FIT if c.experience_only else _EXPERIENCE_FIT
    return score


def has_experience(s: StaffView, tag: str | None) -> bool:
    return bool(tag) and tag in s.experience


def experience_ok(s: StaffView, c: QueueView) -> bool:
    """A parent waiting for a peer with a lived experience only goes to such a peer.

    Never in a crisis: then whoever is free answers.
    """
    return not c.experience_only or c.crisis or has_experience(s, c.requested_experience)


def language_ok(s: StaffView, c: QueueView) -> bool:
    """The specialist speaks the parent's language, or the parent said any language is fine."""
    return speaks(s, c.lang) or c.any_language_ok


def pick_next(s: StaffView, queue: Sequence[QueueView]) -> QueueView | None:
    """The conversation ``/next`` gives ``s``: queue order first, fit within a small window.

    A crisis is always taken first whatever the language (a peer can bring in an
    interpreter; a parent in crisis should not wait for one). Otherwise the first few
    parents ``s`` can talk with are compared by fit, ties going to the longer wait.
    """
    ordered = [c for c in order_queue(queue) if fit_score(s, c) is not None]
    if not ordered:
        return None
    if ordered[0].crisis:
        return ordered[0]
    talkable = [c for c in ordered if language_ok(s, c) and experience_ok(s, c)]
    if not talkable:
        return None
    window = talkable[:FIT_WINDOW]
    return max(window, key=lambda c: (fit_score(s, c) or 0, -window.index(c)))


def best_specialist(
    c: QueueView, staff: Iterable[StaffView], *, exclude: Iterable[int] = ()
) -> StaffView | None:
    """Who should get ``c`` (push mode, transfers, /offduty): best fit, then least loaded."""
    skip = set(exclude)
    candidates = [
        s
        for s in staff
        if s.id not in skip
        and can_take(s)
        and fit_score(s, c) is not None
        and language_ok(s, c)
        and experience_ok(s, c)
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda s: (fit_score(s, c) or 0, -s.active, -s.id))


def position_of(conv_id: int, queue: Sequence[QueueView]) -> int | None:
    """1-based place in the ordered queue."""
    for i, c in enumerate(order_queue(queue), start=1):
        if c.id == conv_id:
            return i
    return None


def wait_estimate(position: int, free_slots: int, on_duty: int) -> int | None:
    """Rough minutes until a peer picks up, rounded to 5; ``None`` when nobody is on duty.

    Parents ahead of a free slot are picked up within minutes; beyond that each
    specialist frees a slot roughly every :data:`MINUTES_PER_CONVERSATION`.
    """
    if on_duty <= 0:
        return None
    if position <= free_slots:
        return 5
    rounds = math.ceil((position - free_slots) / on_duty)
    return max(5, int(5 * round(rounds * MINUTES_PER_CONVERSATION / 5)))


def meaningful_change(
    old_position: int | None, new_position: int, old_wait: int | None, new_wait: int | None
) -> bool:
    """Whether a waiting parent should hear an update (and not one per queue tick).

    Worth telling: reaching the front, moving by two places or more, or the estimate
    moving by five minutes or more.
    """
    if old_position is None:
        return True
    if new_position == 1 and old_position > 1:
        return True
    if abs(old_position - new_position) >= 2:
        return True
    if (old_wait is None) != (new_wait is None):
        return True
    return old_wait is not None and new_wait is not None and abs(old_wait - new_wait) >= 5


def parse_languages(text: str) -> list[str]:
    """``"en, es"`` -> ``["en", "es"]`` (lower-case, order kept, duplicates dropped)."""
    out: list[str] = []
    for part in text.split(","):
        code = part.strip().lower()
        if code and code not in out:
            out.append(code)
    return out


def invalid_experience(values: Iterable[str], known: Iterable[str]) -> list[str]:
    """The values that are not known experience tags (``content/experience.yaml``)."""
    tags = set(known)
    return [v for v in values if v not in tags]
