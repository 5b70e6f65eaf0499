"""Pydantic models for each kind of content file.

Every model forbids unknown fields: a coordinator's typo (``hrs:`` for ``hours:``) must
be an error with a line number, not a silently ignored field that leaves a helpline
without hours. Field-level checks (time zones, hour ranges) live here so their errors
point at the exact line; checks across files live in ``check.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from flows.content.hours import WEEKDAYS, Schedule, parse_range, zone

LangText = dict[str, str]
"""Text per language code, e.g. ``{"en": "...", "es": "..."}``."""

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ResourceKind = Literal[
    "hotline", "text_line", "chat", "service", "support_group", "program", "legal_aid", "emergency"
]
ContactType = Literal["phone", "text", "chat", "web", "email", "address"]
Tone = Literal["common", "hard", "grief"]


def _check_zone(name: str) -> str:
    zone(name)
    return name


def _check_range(text: str) -> str:
    parse_range(text)
    return text


TimeZoneName = Annotated[str, AfterValidator(_check_zone)]
HoursRange = Annotated[str, AfterValidator(_check_range)]


class _Model(BaseModel):
    # Numbers typed without quotes (988, 741741) are still text to us.
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


@dataclass(frozen=True, slots=True)
class Region:
    """Where a parent is, as far as they told us (all optional)."""

    zip: str | None = None
    state: str | None = None
    county: str | None = None


class Hours(_Model):
    """Opening hours of a resource: ``{always: true}`` or a weekly timetable."""

    always: bool = False
    timezone: TimeZoneName | None = None
    weekly: dict[Weekday, list[HoursRange]] = Field(default_factory=dict)
    closed_on_holidays: bool = False
    closed_dates: list[date] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Hours:
        if self.always and (self.weekly or self.timezone):
            raise ValueError("hours: use either always: true or timezone + weekly, not both")
        if not self.always and not self.timezone:
            raise ValueError(
                "hours: add a timezone (e.g. America/Los_Angeles) and weekly hours, "
                "or write always: true for a 24/7 line"
            )
        if not self.always and not self.weekly:
            raise ValueError('hours: add weekly hours, e.g. weekly: {mon: ["10:00-19:00"]}')
        return self

    @cached_property
    def schedule(self) -> Schedule:
        """The engine behind ``is_open``/``next_open`` (built once)."""
        return Schedule.build(
            always=self.always,
            timezone=self.timezone,
            weekly=self.weekly,
            closed_dates=self.closed_dates,
            closed_on_federal_holidays=self.closed_on_holidays,
        )


class BiweeklyMeeting(_Model):
    """Every other week: ``first`` is one date the group meets (it sets the fortnight)."""

    first: date
    time: HoursRange


class MonthlyMeeting(_Model):
    """Once a month on the ``week``-th ``day`` ("2nd Tuesday"); ``week: -1`` is the last."""

    week: Literal[1, 2, 3, 4, -1]
    day: Weekday
    time: HoursRange


class Meetings(_Model):
    """When a support group meets, in one time zone: weekly slots, every other week, or
    monthly ("2nd Tuesday"). US federal holidays are skipped unless ``skip_holidays`` is
    false; ``skipped_dates`` are extra dates with no meeting. ``join`` says how to join
    (call first for the address, the video link is sent by text, ...)."""

    timezone: TimeZoneName
    weekly: dict[Weekday, list[HoursRange]] = Field(default_factory=dict)
    biweekly: list[BiweeklyMeeting] = Field(default_factory=list)
    monthly: list[MonthlyMeeting] = Field(default_factory=list)
    skip_holidays: bool = True
    skipped_dates: list[date] = Field(default_factory=list)
    join: LangText | None = None

    @model_validator(mode="after")
    def _has_a_rule(self) -> Meetings:
        if not (self.weekly or self.biweekly or self.monthly):
            raise ValueError(
                'meetings: add weekly (e.g. {wed: ["18:30-20:00"]}), biweekly '
                '([{first: 2026-12-02, time: "18:30-20:00"}]) or monthly '
                '([{week: 2, day: tue, time: "18:30-20:00"}])'
            )
        return self


class CountyRef(_Model):
    state: str
    county: str


EXAMPLE_STATE = "EX"  # the fictional state of content/resources/example-region.yaml


class Serves(_Model):
    """Who a resource is for; ``national`` resources are offered everywhere."""

    national: bool = False
    states: list[str] = Field(default_factory=list)
    counties: list[CountyRef] = Field(default_factory=list)
    zip_prefixes: list[str] = Field(default_factory=list)

    @property
    def example_only(self) -> bool:
        """Serves only the fictional example region (state ``EX``), which no parent's
        region can match: demo mode shows such entries wherever the visitor is."""
        places = [*self.states, *(c.state for c in self.counties)]
        return not self.national and bool(places) and all(
            p.strip().upper() == EXAMPLE_STATE for p in places
        )

    def covers(self, region: Region | None) -> bool:
        """True if a parent in ``region`` can use this resource."""
        if self.national:
            return True
        if region is None:
            return False
        state = (region.state or "").strip().casefold()
        if state and any(s.casefold() == state for s in self.states):
            return True
        county = _county_key(region.county)
        if (
            state
            and county
            and any(
                c.state.casefold() == state and _county_key(c.county) == county
                for c in self.counties
            )
        ):
            return True
        zip_code = (region.zip or "").strip()
        return bool(zip_code) and any(zip_code.startswith(p) for p in self.zip_prefixes)


def _county_key(name: str | None) -> str:
    text = (name or "").strip().casefold()
    for suffix in (" county", " parish", " borough"):
        text = text.removesuffix(suffix)
    return text


class Contact(_Model):
    """One way to reach a resource. ``keyword`` is what to text (e.g. HOME)."""

    type: ContactType
    value: str
    keyword: str | None = None
    note: LangText | None = None
    languages: list[str] = Field(default_factory=list)


class Resource(_Model):
    """A helpline, service or group a peer or the bot may offer."""

    id: str
    name: LangText
    kind: ResourceKind
    crisis: bool = False
    description: LangText
    categories: list[str]
    serves: Serves
    contact: list[Contact] = Field(min_length=1)
    hours: Hours
    languages: list[str] = Field(default_factory=lambda: ["en"])
    cost: LangText | None = None
    verified_on: date
    source: str
    demo_only: bool = False
    schedule: LangText | None = None
    meetings: Meetings | None = None
    format: Literal["in_person", "online", "both"] | None = None
    group_language: str | None = None

    @property
    def always_open(self) -> bool:
        """True for 24/7 lines, the only ones allowed in a crisis message."""
        return self.hours.always

    def is_open(self, now: datetime) -> bool:
        """Open at ``now`` (an aware datetime), judged in the resource's own time zone."""
        return self.hours.schedule.is_open(now)

    def next_open(self, now: datetime) -> datetime | None:
        """``now`` if open, else the next opening (resource-local time), or ``None``."""
        return self.hours.schedule.next_open(now)


class Topic(_Model):
    """Something parents bring to the line, with words for a warm first reply."""

    id: str
    tone: Tone
    title: LangText
    keywords: dict[str, list[str]]
    reflection: LangText
    strength_question: LangText
    next_steps: dict[str, list[str]]
    resource_categories: list[str] = Field(default_factory=list)
    rights: list[str] = Field(default_factory=list)


class RightsInfo(_Model):
    """Plain-language information about a parent's rights. Information, not legal advice."""

    id: str
    title: LangText
    body: LangText
    jurisdiction: str
    verified_on: date
    source: str
    topics: list[str] = Field(default_factory=list)
    states: list[str] = Field(default_factory=list)

    def applies_in(self, region: Region | None) -> bool:
        """Federal information (no ``states``) applies everywhere."""
        if not self.states:
            return True
        state = (region.state if region else None) or ""
        return any(s.casefold() == state.strip().casefold() for s in self.states)


class OpeningHours(_Model):
    """When the line itself has peers on duty (``content/hours.yaml``)."""

    timezone: TimeZoneName
    weekly: dict[Weekday, list[HoursRange]]
    holidays: list[date] = Field(default_factory=list)
    note: str | None = None

    @cached_property
    def schedule(self) -> Schedule:
        """The engine behind ``is_open``/``next_open`` (built once)."""
        return Schedule.build(
            always=False, timezone=self.timezone, weekly=self.weekly, closed_dates=self.holidays
        )

    def is_open(self, now: datetime) -> bool:
        """True when peers are on duty at ``now`` (an aware datetime)."""
        return self.schedule.is_open(now)

    def next_open(self, now: datetime) -> datetime | None:
        """``now`` if open, else when the line next opens (line-local time)."""
        return self.schedule.next_open(now)


class Category(_Model):
    """A resource category a coordinator can add to ``categories.yaml``.

    ``safety: true`` marks crisis, emergency and abuse categories: a resource in one of
    them is only offered for a concern about safety (a topic that lists that category),
    never for a tantrum or a sleepless night, where a child-abuse hotline reads as a threat.
    """

    label: LangText
    safety: bool = False


ExperienceId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,23}$")]


class Experience(_Model):
    """Something a peer specialist has lived through (``content/experience.yaml``).

    ``label`` finishes "a peer who has been through …" on the parent's button and in the
    specialist's summary; ``topics`` are the topics for which this is the default wish
    (``cw-investigation`` -> ``child-welfare``), so routing prefers such a peer even
    when the parent did not choose one.
    """

    id: ExperienceId
    label: LangText
    topics: list[str] = Field(default_factory=list)


class TaxonomyMap(_Model):
    """HSDS/AIRS-211 taxonomy terms to our categories (``resources/hsds-taxonomy.yaml``).

    Keys are term codes (a parent code covers its children) or term names; the importer
    files a service under the categories its terms map to and reports the rest.
    """

    terms: dict[str, list[str]] = Field(default_factory=dict)


TAXONOMY_FILE = "hsds-taxonomy.yaml"


__all__ = [
    "WEEKDAYS",
    "BiweeklyMeeting",
    "Category",
    "Contact",
    "CountyRef",
    "Experience",
    "Hours",
    "LangText",
    "Meetings",
    "MonthlyMeeting",
    "OpeningHours",
    "Region",
    "Resource",
    "RightsInfo",
    "Serves",
    "TaxonomyMap",
    "Topic",
]
