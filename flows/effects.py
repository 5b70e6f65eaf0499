"""Effects: what a flow asks the application to do beyond sending text.

Flows are pure functions of (snapshot, event); anything that touches storage, the
scheduler or the handoff queue comes back as one of these small frozen records and
the application carries it out in the same transaction as the outgoing messages.
They carry ids and choices, not message text, so a stored effect never holds more
of the parent's words than it must (``RequestPeer.note`` is the one exception: the
parent's own words, which the peer specialist needs to see).

Effects are applied in list order; a flow that cancels and re-schedules check-ins
emits ``CancelCheckins()`` before the new ``ScheduleCheckin``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class RequestPeer:
    """Queue the parent for a peer specialist, with the card they saw and sent.

    ``note`` is the line in their own words on the card, if any; ``experience`` is an
    experience tag of ``content/experience.yaml`` (never a topic id): the one the
    parent chose (``chosen``: they wait for such a peer unless they say otherwise), or
    their topic's default, a soft preference. ``card``: this comes from the parent's
    handoff card (``flows/parent/card.py``), so the peer reads exactly it: the ``topic``
    they kept (None: taken out) and their region only if ``region``. The handoff part
    answers with the queue place or the after-hours text.
    """

    note: str | None = None
    experience: str | None = None
    chosen: bool = False
    card: bool = False
    topic: str | None = None
    region: bool = True


@dataclass(frozen=True, slots=True)
class LeaveQueue:
    """Take the parent out of the peer queue (or end a waiting handoff) — /stop."""


@dataclass(frozen=True, slots=True)
class SetRegion:
    """Remember where the parent is, so resources can be local. Any part may be None."""

    zip: str | None
    state: str | None
    county: str | None


@dataclass(frozen=True, slots=True)
class ScheduleCheckin:
    """Deliver ``Inbound(kind="internal", internal={"job": "checkin", "key": key})`` at ``due_at``.

    The key lets the flow ignore a check-in that was superseded or declined since.
    """

    due_at: datetime
    key: str


@dataclass(frozen=True, slots=True)
class CancelCheckins:
    """Drop every pending check-in for this parent (/stop, /forget, "no thanks")."""


@dataclass(frozen=True, slots=True)
class ScheduleMeetingReminder:
    """Remind the parent the day before a support group's meeting (they pressed the button).

    Delivered at ``due_at`` as ``internal={"job": "meeting_reminder", "resource": ...,
    "at": <meeting start, ISO>}``; one pending reminder per group and parent.
    """

    resource_id: str
    meeting_at: datetime
    due_at: datetime


@dataclass(frozen=True, slots=True)
class CancelMeetingReminders:
    """Drop the parent's pending meeting reminders: one group's, or all (``None``, /stop)."""

    resource_id: str | None = None


@dataclass(frozen=True, slots=True)
class ForgetConfirmed:
    """The parent confirmed /forget: delete what the line stores about them."""


@dataclass(frozen=True, slots=True)
class ResourcesShared:
    """Which resources were shown (ids only), for counting what helps — never who saw them."""

    ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TopicChosen:
    """The concern the parent named (a topic id), for aggregate statistics."""

    id: str


@dataclass(frozen=True, slots=True)
class PlanChosen:
    """The parent chose a next step: its index in the topic's list, or None for their own.

    The step's text is never stored: it is the parent's plan, not ours to keep.
    """

    step_index: int | None


@dataclass(frozen=True, slots=True)
class LanguageChanged:
    """The parent switched language (``"en"`` or ``"es"``); the app stores it with the parent."""

    lang: str


Effect = (
    RequestPeer
    | LeaveQueue
    | SetRegion
    | ScheduleCheckin
    | CancelCheckins
    | ScheduleMeetingReminder
    | CancelMeetingReminders
    | ForgetConfirmed
    | ResourcesShared
    | TopicChosen
    | PlanChosen
    | LanguageChanged
)
