"""What the dashboard shows, read from the database in one short read each.

Parents appear only by pseudonym; no message text, waiting note or chosen name is
ever read here, so no template can leak one by mistake.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.web.dashboard.stats import (
    Series,
    SurveySummary,
    WaitSummary,
    days_back,
    series,
    wait_summary,
)
from core.storage.models import Conversation, DailyStat, Parent, Staff, StaffRole
from handoff.policy import queue_key
from handoff.queries import queue_view

WINDOW_DAYS = 30

# The counters on the stats page, in order, with their labels.
COUNTERS: tuple[tuple[str, str], ...] = (
    ("conversations_requested", "Conversations (asked for a person)"),
    ("handoffs", "Handoffs (a peer took the conversation)"),
    ("crisis_escalations", "Crisis escalations"),
    ("after_hours_messages", "After-hours messages"),
    ("resources_shared", "Resources shared"),
    ("surveys", "Surveys answered"),
)


@dataclass(frozen=True, slots=True)
class QueueRow:
    position: int
    pseudonym: str
    priority: str
    wait_minutes: int
    lang: str
    topic: str | None
    after_hours: bool
    front: bool


@dataclass(frozen=True, slots=True)
class DutyRow:
    name: str
    role: StaffRole
    languages: tuple[str, ...]
    active: int
    max_active: int
    paused: bool
    on_duty_minutes: int | None


async def queue_rows(session: AsyncSession, now: datetime) -> list[QueueRow]:
    """The waiting parents in the order the line will serve them."""
    rows = (await session.execute(
        select(Conversation, Parent.pseudonym)
        .join(Parent, Parent.id == Conversation.parent_id)
        .where(Conversation.status == "queued")
    )).all()
    ordered = sorted(rows, key=lambda r: queue_key(queue_view(r[0])))
    out = []
    for pos, (conv, pseudonym) in enumerate(ordered, start=1):
        waited = max(0, int((now - conv.queued_at).total_seconds() // 60))
        out.append(QueueRow(pos, pseudonym, conv.priority, waited, conv.lang, conv.topic,
                            conv.after_hours, conv.front_of_queue))
    return out


async def duty_rows(session: AsyncSession, now: datetime) -> list[DutyRow]:
    """Staff on duty with their current load."""
    staff = list(await session.scalars(
        select(Staff).where(Staff.on_duty.is_(True)).order_by(Staff.name)))
    loads: dict[int, int] = {}
    if staff:
        res = await session.execute(
            select(Conversation.specialist_id, func.count())
            .where(Conversation.status == "active",
                   Conversation.specialist_id.in_([s.tg_user_id for s in staff]))
            .group_by(Conversation.specialist_id))
        loads = {int(sid): int(n) for sid, n in res.all() if sid is not None}
    return [
        DutyRow(s.name, s.role, tuple(s.languages or ()), loads.get(s.tg_user_id, 0),
                s.max_active, s.paused,
                int((now - s.duty_started_at).total_seconds() // 60)
                if s.duty_started_at else None)
        for s in staff
    ]


@dataclass
class StatsPage:
    today: date
    days: list[date]
    counters: list[Series]
    topics: list[tuple[str, int, int]]  # id, today, 30 days
    wait_today: WaitSummary
    wait_window: WaitSummary
    wait_median_series: Series
    wait_p90_series: Series
    survey: SurveySummary
    conversations_today: int


async def daily_counts(session: AsyncSession, since: date) -> dict[tuple[date, str], int]:
    rows = await session.execute(
        select(DailyStat.day, DailyStat.metric, DailyStat.value).where(DailyStat.day >= since))
    return {(d, m): int(v) for d, m, v in rows.all()}


def _wait_seconds(conv: Conversation) -> float | None:
    """Until a person answered: the first reply if known, else the moment of the claim."""
    answered = conv.first_response_at or conv.claimed_at
    if answered is None:
        return None
    return max(0.0, (answered - conv.queued_at).total_seconds())


async def waits_by_day(session: AsyncSession, since: datetime) -> dict[date, list[float]]:
    """Seconds waited, grouped by the day the parent joined the queue."""
    rows = await session.scalars(
        select(Conversation).where(Conversation.queued_at >= since,
                                   Conversation.claimed_at.is_not(None)))
    out: dict[date, list[float]] = defaultdict(list)
    for conv in rows:
        w = _wait_seconds(conv)
        if w is not None:
            out[conv.queued_at.date()].append(w)
    return out


async def stats_page(session: AsyncSession, now: datetime) -> StatsPage:
    today = now.date()
    days = days_back(today, WINDOW_DAYS)
    counts = await daily_counts(session, days[0])
    counters = [series(m, label, days, counts) for m, label in COUNTERS]

    topic_ids = sorted({m.split(":", 1)[1] for (_d, m) in counts if m.startswith("topic:")})
    topics = sorted(
        ((t, counts.get((today, f"topic:{t}"), 0),
          sum(v for (_d, m), v in counts.items() if m == f"topic:{t}")) for t in topic_ids),
        key=lambda r: -r[2])

    start = datetime.combine(days[0], datetime.min.time(), tzinfo=now.tzinfo)
    waits = await waits_by_day(session, start)
    all_waits = [w for d in days for w in waits.get(d, [])]
    per_day = {d: wait_summary(waits.get(d, [])) for d in days}
    median = Series("wait_median", "Median wait (minutes)", tuple(days),
                    tuple(per_day[d].median or 0.0 for d in days), "min")
    p90 = Series("wait_p90", "90th percentile wait (minutes)", tuple(days),
                 tuple(per_day[d].p90 or 0.0 for d in days), "min")

    survey = SurveySummary()
    rows = await session.execute(
        select(Conversation.survey_heard, Conversation.survey_helpful)
        .where(Conversation.queued_at >= start,
               (Conversation.survey_heard.is_not(None))
               | (Conversation.survey_helpful.is_not(None))))
    for heard, helpful in rows.all():
        survey.add(heard, helpful)

    conv_today = await session.scalar(
        select(func.count()).select_from(Conversation).where(
            Conversation.queued_at >= datetime.combine(today, datetime.min.time(),
                                                       tzinfo=now.tzinfo)))
    return StatsPage(today, days, counters, topics, per_day[today], wait_summary(all_waits),
                     median, p90, survey, int(conv_today or 0))


async def export_rows(session: AsyncSession, today: date,
                      days: int) -> list[tuple[date, str, float]]:
    """Aggregate numbers only: daily counters plus the daily wait percentiles (minutes)."""
    since = today - timedelta(days=days - 1)
    counts = await daily_counts(session, since)
    out: list[tuple[date, str, float]] = [(d, m, float(v)) for (d, m), v in counts.items()]
    start = datetime.combine(since, datetime.min.time(), tzinfo=UTC)
    waits = await waits_by_day(session, start)
    for d, values in waits.items():
        if d < since:
            continue
        s = wait_summary(values)
        if s.median is not None and s.p90 is not None:
            out += [(d, "wait_median_minutes", round(s.median, 2)),
                    (d, "wait_p90_minutes", round(s.p90, 2))]
    return sorted(out, key=lambda r: (r[0], r[1]))
