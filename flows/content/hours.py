"""Weekly opening hours: is a line open now, and when does it open next?

One small engine serves both the resources (a helpline's hours) and the line's own
hours (``content/hours.yaml``). It exists so that nothing shows a weekday-only line as
open at 3 a.m.: every decision is made in the resource's own time zone, and a line with
no hours for a day is closed that day, never "probably open".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_END_OF_DAY = time(23, 59, 59, 999999)
# Long enough to step over a run of holidays, short enough to stay cheap.
_LOOKAHEAD_DAYS = 21


def parse_range(text: str) -> tuple[time, time]:
    """Parse ``"10:00-19:00"``; ``24:00`` is allowed as an end.

    Raises ``ValueError`` with a message a coordinator can act on.
    """
    m = _RANGE.match(text)
    if not m:
        raise ValueError(f'hours "{text}" should look like "10:00-19:00"')
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2 != 0):
        raise ValueError(f'hours "{text}" has a time that does not exist (use 00:00 to 24:00)')
    start = time(h1, m1)
    end = _END_OF_DAY if h2 == 24 else time(h2, m2)
    if end <= start:
        raise ValueError(
            f'hours "{text}": the end must be after the start; '
            "split a range that crosses midnight into two days (e.g. 22:00-24:00 and 00:00-02:00)"
        )
    return start, end


def zone(name: str) -> ZoneInfo:
    """A time zone by IANA name; ``ValueError`` naming the problem when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f'unknown timezone "{name}" (use an IANA name such as America/Los_Angeles)'
        ) from None


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    last = nxt - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(d: date) -> date:
    if d.weekday() == 5:
        return d - timedelta(days=1)
    if d.weekday() == 6:
        return d + timedelta(days=1)
    return d


def us_federal_holidays(year: int) -> set[date]:
    """US federal holidays (observed dates) for ``year``.

    Weekday-only helplines are usually closed on these; computing them means a
    coordinator does not have to type next year's list before it matters.
    """
    return {
        _observed(date(year, 1, 1)),
        _nth_weekday(year, 1, 0, 3),  # Martin Luther King Jr. Day
        _nth_weekday(year, 2, 0, 3),  # Washington's Birthday
        _last_weekday(year, 5, 0),  # Memorial Day
        _observed(date(year, 6, 19)),  # Juneteenth
        _observed(date(year, 7, 4)),
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        _nth_weekday(year, 10, 0, 2),  # Columbus Day / Indigenous Peoples' Day
        _observed(date(year, 11, 11)),
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving
        _observed(date(year, 12, 25)),
    }


@dataclass(frozen=True)
class Schedule:
    """Weekly hours in one time zone, with closed dates.

    ``always`` means 24/7 and ignores everything else.
    """

    always: bool = False
    tz: ZoneInfo | None = None
    weekly: Mapping[int, Sequence[tuple[time, time]]] = field(default_factory=dict)
    closed_dates: frozenset[date] = frozenset()
    closed_on_federal_holidays: bool = False

    @classmethod
    def build(
        cls,
        *,
        always: bool,
        timezone: str | None,
        weekly: Mapping[Any, Iterable[str]],
        closed_dates: Iterable[date] = (),
        closed_on_federal_holidays: bool = False,
    ) -> Schedule:
        """Build from the YAML shape; raises ``ValueError`` on a bad zone or range."""
        if always:
            return cls(always=True)
        if not timezone:
            raise ValueError("hours need a timezone (e.g. America/Los_Angeles) or always: true")
        days: dict[int, list[tuple[time, time]]] = {}
        for day, ranges in weekly.items():
            idx = WEEKDAYS.index(day)
            days[idx] = sorted(parse_range(r) for r in ranges)
        return cls(
            always=False,
            tz=zone(timezone),
            weekly=days,
            closed_dates=frozenset(closed_dates),
            closed_on_federal_holidays=closed_on_federal_holidays,
        )

    def _closed_on(self, d: date) -> bool:
        if d in self.closed_dates:
            return True
        return self.closed_on_federal_holidays and d in us_federal_holidays(d.year)

    def _local(self, now: datetime) -> datetime:
        if now.tzinfo is None:
            raise ValueError("opening hours need an aware datetime (with a time zone)")
        assert self.tz is not None
        return now.astimezone(self.tz)

    def is_open(self, now: datetime) -> bool:
        """True only when ``now`` falls inside a listed range on a day that is not closed."""
        if self.always:
            return True
        local = self._local(now)
        if self._closed_on(local.date()):
            return False
        t = local.time().replace(tzinfo=None)
        return any(
            start <= t < end or (end == _END_OF_DAY and t >= start)
            for start, end in self.weekly.get(local.weekday(), ())
        )

    def open_until(self, now: datetime) -> datetime | None:
        """When the current open range ends (local time), or ``None`` if closed or 24/7."""
        if self.always or not self.is_open(now):
            return None
        local = self._local(now)
        t = local.time().replace(tzinfo=None)
        for start, end in self.weekly.get(local.weekday(), ()):
            if start <= t and (t < end or end == _END_OF_DAY):
                if end == _END_OF_DAY:
                    return datetime.combine(local.date() + timedelta(days=1), time(0), self.tz)
                return datetime.combine(local.date(), end, self.tz)
        return None

    def next_open(self, now: datetime) -> datetime | None:
        """``now`` when open; else the next opening in local time; ``None`` if never open."""
        if self.always or self.is_open(now):
            return now
        local = self._local(now)
        t = local.time().replace(tzinfo=None)
        for offset in range(_LOOKAHEAD_DAYS):
            d = local.date() + timedelta(days=offset)
            if self._closed_on(d):
                continue
            for start, _end in self.weekly.get(d.weekday(), ()):
                if offset == 0 and start <= t:
                    continue
                return datetime.combine(d, start, self.tz)
        return None
