"""Pure arithmetic for the dashboard: percentiles, daily series, survey summaries.

Kept apart from the queries so the numbers coordinators act on are tested as plain
data (an off-by-one in a 90th percentile is exactly the kind of bug nobody notices).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile (``pct`` in 0–100); ``None`` for no data.

    Nearest rank always returns a wait that really happened, which is easier to explain
    to a coordinator than an interpolated one.
    """
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def days_back(today: date, n: int) -> list[date]:
    """The last ``n`` days ending with ``today``, oldest first."""
    return [today - timedelta(days=i) for i in range(n - 1, -1, -1)]


@dataclass(frozen=True, slots=True)
class Series:
    """One metric over a run of days, for a small bar chart."""

    metric: str
    label: str
    days: tuple[date, ...]
    values: tuple[float, ...]
    unit: str = ""

    @property
    def total(self) -> float:
        return sum(self.values)

    @property
    def peak(self) -> float:
        return max(self.values, default=0) or 1

    @property
    def today(self) -> float:
        return self.values[-1] if self.values else 0


def series(metric: str, label: str, days: Sequence[date],
           counts: Mapping[tuple[date, str], int]) -> Series:
    return Series(metric, label, tuple(days), tuple(float(counts.get((d, metric), 0))
                                                    for d in days))


@dataclass(frozen=True, slots=True)
class WaitSummary:
    """How long parents waited until a person answered, in minutes."""

    count: int
    median: float | None
    p90: float | None


def wait_summary(seconds: Iterable[float]) -> WaitSummary:
    values = [s / 60 for s in seconds]
    return WaitSummary(len(values), percentile(values, 50), percentile(values, 90))


@dataclass
class SurveySummary:
    """Answers to the two 1–5 questions (heard, helpful)."""

    heard: dict[int, int] = field(default_factory=lambda: dict.fromkeys(range(1, 6), 0))
    helpful: dict[int, int] = field(default_factory=lambda: dict.fromkeys(range(1, 6), 0))

    def add(self, heard: int | None, helpful: int | None) -> None:
        if heard in self.heard:
            self.heard[heard] += 1
        if helpful in self.helpful:
            self.helpful[helpful] += 1

    @staticmethod
    def _avg(dist: Mapping[int, int]) -> float | None:
        n = sum(dist.values())
        return sum(k * v for k, v in dist.items()) / n if n else None

    @property
    def heard_count(self) -> int:
        return sum(self.heard.values())

    @property
    def helpful_count(self) -> int:
        return sum(self.helpful.values())

    @property
    def heard_avg(self) -> float | None:
        return self._avg(self.heard)

    @property
    def helpful_avg(self) -> float | None:
        return self._avg(self.helpful)


def minutes_label(minutes: float | None) -> str:
    """``—`` for no data, ``<1 min``, ``12 min``, ``2 h 5 min``."""
    if minutes is None:
        return "—"
    if minutes < 1:
        return "<1 min"
    m = round(minutes)
    return f"{m // 60} h {m % 60} min" if m >= 60 else f"{m} min"
