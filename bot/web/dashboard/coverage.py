"""Is the directory still true, and where is it thin? For the coordinators' content page.

A number that has changed or a group that stopped meeting fails a parent at the worst
moment, so resources are shown by the age of their ``verified_on``, with the ones coming
due for a call. And a topic a parent raises in a region with no local resource for it
leaves them only national lines: those gaps are listed per topic, so a coordinator knows
what to look for next. National and crisis lines do not count as local.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flows.content import Content, Region, Resource

# (label, the oldest a resource in the band may be, in days; None: no limit)
AGE_BANDS: tuple[tuple[str, int | None], ...] = (
    ("under 3 months", 91),
    ("3 to 6 months", 182),
    ("6 to 12 months", 365),
    ("over a year", None),
)
DUE_SOON_DAYS = 30


@dataclass(frozen=True, slots=True)
class AgeBand:
    label: str
    count: int


@dataclass(frozen=True, slots=True)
class DueResource:
    id: str
    name: str
    verified_on: date
    due_on: date
    days_left: int  # negative: overdue

    @property
    def overdue(self) -> bool:
        return self.days_left < 0


@dataclass(frozen=True, slots=True)
class TopicGap:
    topic_id: str
    topic: str
    regions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Coverage:
    ages: tuple[AgeBand, ...]
    due: tuple[DueResource, ...]
    gaps: tuple[TopicGap, ...]
    regions: int  # how many regions have at least one local resource
    due_soon_days: int = DUE_SOON_DAYS


def _name(r: Resource) -> str:
    return r.name.get("en") or next(iter(r.name.values()), r.id)


def _bands(resources: list[Resource], today: date) -> tuple[AgeBand, ...]:
    counts = [0] * len(AGE_BANDS)
    for r in resources:
        age = (today - r.verified_on).days
        for i, (_label, limit) in enumerate(AGE_BANDS):
            if limit is None or age < limit:
                counts[i] += 1
                break
    return tuple(AgeBand(label, n) for (label, _), n in zip(AGE_BANDS, counts, strict=True))


def _due(resources: list[Resource], today: date, max_age_days: int) -> tuple[DueResource, ...]:
    horizon = today + timedelta(days=DUE_SOON_DAYS)
    due = []
    for r in resources:
        due_on = r.verified_on + timedelta(days=max_age_days)
        if due_on <= horizon:
            due.append(DueResource(r.id, _name(r), r.verified_on, due_on, (due_on - today).days))
    return tuple(sorted(due, key=lambda d: (d.due_on, d.id)))


def _regions(resources: list[Resource]) -> dict[str, Region]:
    """Every place some local resource names, labelled for a coordinator."""
    found: dict[str, Region] = {}
    for r in resources:
        s = r.serves
        if s.national:
            continue
        for state in s.states:
            found.setdefault(f"{state.upper()} (whole state)", Region(state=state))
        for c in s.counties:
            found.setdefault(f"{c.county}, {c.state.upper()}", Region(state=c.state,
                                                                     county=c.county))
        for prefix in s.zip_prefixes:
            found.setdefault(f"ZIP {prefix}…", Region(zip=prefix))
    return found


def _local(resources: list[Resource], region: Region) -> list[Resource]:
    return [r for r in resources
            if not r.serves.national and not r.crisis and r.serves.covers(region)]


def content_coverage(content: Content, max_age_days: int, today: date) -> Coverage:
    resources = list(content.resources)
    regions = _regions(resources)
    local = {label: _local(resources, region) for label, region in regions.items()}
    gaps = []
    for topic in content.topics:
        wanted = set(topic.resource_categories)
        if not wanted:
            continue
        missing = []
        for label in sorted(local):
            here = local[label]
            if not any(wanted & set(r.categories) for r in here):
                demo = bool(here) and all(r.demo_only for r in here)
                missing.append(label + (" (example)" if demo else ""))
        if missing:
            gaps.append(TopicGap(topic.id, topic.title.get("en") or topic.id, tuple(missing)))
    return Coverage(
        ages=_bands(resources, today),
        due=_due(resources, today, max_age_days),
        gaps=tuple(gaps),
        regions=len(regions),
    )
