"""When does a support group meet next, and when is "the day before"?

A parent who hears "Wednesdays 6:30" on the Wednesday before Thanksgiving and drives there
to a locked door does not come back. So the next meeting is computed, never guessed: in
the group's own time zone (the wall-clock time stays 6:30 p.m. across a DST change), with
US federal holidays skipped (from the ``holidays`` package, observed dates included) and
the coordinator's own ``skipped_dates``. Pure functions of (rule, now).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import holidays

from flows.content.hours import WEEKDAYS, parse_range, zone
from flows.content.models import Meetings

# A monthly group with a holiday or two in the way still meets within a few months; a
# rule that finds nothing in a year is a content problem, shown as "no upcoming meeting".
HORIZON_DAYS = 400


@dataclass(frozen=True, slots=True)
class Meeting:
    """One meeting, as aware datetimes in the group's time zone."""

    start: datetime
    end: datetime


@functools.lru_cache(maxsize=32)
def us_holidays(year: int) -> frozenset[date]:
    """US federal holidays of ``year``, the day itself and its observed weekday."""
    return frozenset(holidays.country_holidays("US", years=year).keys())


def _skipped(m: Meetings, d: date) -> bool:
    return d in m.skipped_dates or (m.skip_holidays and d in us_holidays(d.year))


def _monthly_match(week: int, d: date) -> bool:
    if week == -1:
        return (d + timedelta(days=7)).month != d.month
    return (d.day - 1) // 7 + 1 == week


def _slots(m: Meetings, d: date) -> list[tuple[time, time]]:
    """The meeting times (start, end) on local date ``d`` by every rule, sorted."""
    wd = d.weekday()
    ranges = [r for day, rs in m.weekly.items() if WEEKDAYS.index(day) == wd for r in rs]
    ranges += [b.time for b in m.biweekly
               if b.first.weekday() == wd and (d - b.first).days % 14 == 0]
    ranges += [r.time for r in m.monthly
               if WEEKDAYS.index(r.day) == wd and _monthly_match(r.week, d)]
    return sorted({parse_range(r) for r in ranges})


def next_meetings(m: Meetings, now: datetime, count: int = 1) -> list[Meeting]:
    """The next ``count`` meetings starting after ``now`` (an aware datetime)."""
    if now.tzinfo is None:
        raise ValueError("next_meetings needs an aware datetime (with a time zone)")
    tz = zone(m.timezone)
    today = now.astimezone(tz).date()
    found: list[Meeting] = []
    for offset in range(HORIZON_DAYS):
        d = today + timedelta(days=offset)
        if _skipped(m, d):
            continue
        for start_t, end_t in _slots(m, d):
            start = datetime.combine(d, start_t, tz)
            if start <= now:
                continue
            found.append(Meeting(start, datetime.combine(d, end_t, tz)))
            if len(found) >= count:
                return found
    return found


def day_before(start: datetime) -> datetime:
    """The same wall-clock time one calendar day earlier, in the meeting's zone (so a
    6:30 p.m. meeting the day after a DST change is reminded at 6:30 p.m., not 5:30)."""
    local = start.replace(tzinfo=None) - timedelta(days=1)
    return local.replace(tzinfo=start.tzinfo)


def next_reminder(m: Meetings, now: datetime) -> tuple[Meeting, datetime] | None:
    """The first meeting whose day-before reminder is still ahead of ``now``, with it.

    Asked less than a day before a meeting, the reminder is for the one after: the
    parent is told which date, so nothing arrives unexpectedly.
    """
    for meeting in next_meetings(m, now, count=3):
        due = day_before(meeting.start)
        if due > now:
            return meeting, due
    return None
