"""Content health for coordinators: the last reload, its problems, stale resources.

A refused reload keeps the last good content running, so nothing looks wrong to
parents; this page is where a coordinator finds out their edit did not go live.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flows.content import ContentStore
from flows.content.models import Resource


@dataclass(frozen=True, slots=True)
class StaleResource:
    id: str
    name: str
    verified_on: date
    days_old: int


@dataclass(frozen=True, slots=True)
class ContentStatus:
    last_reload_at: datetime | None
    last_error_at: datetime | None
    errors: tuple[str, ...]
    warnings: tuple[str, ...]
    languages: tuple[str, ...]
    topics: int
    resources: int
    stale: tuple[StaleResource, ...]
    max_age_days: int

    @property
    def refused(self) -> bool:
        """The newest edit was refused (the previous content is still being served)."""
        return bool(self.errors)


def _name(resource: Resource) -> str:
    return resource.name.get("en") or next(iter(resource.name.values()), resource.id)


def content_status(store: ContentStore, max_age_days: int, today: date) -> ContentStatus:
    problems = list(getattr(store, "last_problems", []) or [])
    errors = tuple(str(p) for p in problems if getattr(p, "severity", "error") == "error")
    warnings = tuple(str(p) for p in problems if getattr(p, "severity", "error") != "error")
    current = store.current
    limit = today - timedelta(days=max_age_days)
    stale = tuple(sorted(
        (StaleResource(r.id, _name(r), r.verified_on, (today - r.verified_on).days)
         for r in current.resources if r.verified_on < limit),
        key=lambda s: s.verified_on))
    return ContentStatus(
        last_reload_at=getattr(store, "last_reload_at", None),
        last_error_at=getattr(store, "last_error_at", None),
        errors=errors, warnings=warnings, languages=tuple(current.languages),
        topics=len(current.topics), resources=len(current.resources), stale=stale,
        max_age_days=max_age_days,
    )
