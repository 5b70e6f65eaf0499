"""Turn a resource into the words a parent reads.

Every rendering shows the hours, and the open/closed status is computed at ``now`` in
the resource's own time zone. A parent at 3 a.m. who calls a weekday line and hears a
recording has been let down twice; the text says "Closed now — opens Monday 10:00
(Pacific)" instead. All words come from ``content/texts/<lang>/resources.yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flows.content.hours import WEEKDAYS, Schedule
from flows.content.meetings import next_meetings
from flows.content.models import Contact, Resource

if TYPE_CHECKING:
    from flows.content.content import Content

MONTHS: tuple[str, ...] = (
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")

REQUIRED_TEXTS: tuple[str, ...] = (
    "resources.none_found",
    "resources.demo_label",
    "resources.short",
    "resources.hours.always",
    "resources.hours.open_until",
    "resources.hours.closed_opens",
    "resources.hours.closed",
    "resources.hours.weekly",
    "resources.hours.holidays",
    "resources.days.today",
    "resources.days.tomorrow",
    *(f"resources.days.{d}" for d in WEEKDAYS),
    *(f"resources.days_short.{d}" for d in WEEKDAYS),
    "resources.contact.phone",
    "resources.contact.text",
    "resources.contact.text_keyword",
    "resources.contact.chat",
    "resources.contact.web",
    "resources.contact.email",
    "resources.contact.address",
    "resources.cost",
    "resources.languages",
    "resources.meets",
    "resources.format.in_person",
    "resources.format.online",
    "resources.format.both",
    *(f"resources.months.{m}" for m in MONTHS),
    "resources.meeting.next",
    "resources.meeting.none",
    "resources.meeting.when",
    "resources.meeting.at",
    "resources.meeting.at_one",
    "resources.meeting.time",
    "resources.meeting.am",
    "resources.meeting.pm",
    "resources.meeting.group_language",
    "resources.meeting.join",
)


def _pick(content: Content, texts: dict[str, str] | None, lang: str) -> str:
    if not texts:
        return ""
    return texts.get(lang) or texts.get("en") or next(iter(texts.values()), "")


def _zone_label(content: Content, tz_name: str, lang: str) -> str:
    key = f"resources.zones.{tz_name}"
    return content.text(key, lang) if content.has_text(key, "en") else tz_name


def _day_label(content: Content, when: datetime, now: datetime, lang: str) -> str:
    local_now = now.astimezone(when.tzinfo)
    days = (when.date() - local_now.date()).days
    if days == 0:
        return content.text("resources.days.today", lang)
    if days == 1:
        return content.text("resources.days.tomorrow", lang)
    return content.text(f"resources.days.{WEEKDAYS[when.weekday()]}", lang)


def zone_label(content: Content, tz_name: str, lang: str) -> str:
    """The words for a time zone ("Pacific", "del Pacífico"), or its IANA name."""
    return _zone_label(content, tz_name, lang)


def at_time(content: Content, when: datetime, lang: str) -> str:
    """ "at 7:00 pm" / "a las 7:00 p. m." for ``when`` in its own zone (12-hour clock,
    the one US parents read in both languages; Spanish says "a la" for one o'clock)."""
    hour = when.hour % 12 or 12
    ampm = content.text("resources.meeting." + ("am" if when.hour < 12 else "pm"), lang)
    clock = content.text("resources.meeting.time", lang, hour=str(hour),
                         minute=f"{when.minute:02d}", ampm=ampm)
    return content.text("resources.meeting.at_one" if hour == 1 else "resources.meeting.at",
                        lang, time=clock)


def meeting_when(content: Content, when: datetime, lang: str) -> str:
    """ "Wednesday, December 9 at 6:30 pm" / "el miércoles 9 de diciembre a las 6:30 p. m."."""
    return content.text(
        "resources.meeting.when",
        lang,
        weekday=content.text(f"resources.days.{WEEKDAYS[when.weekday()]}", lang),
        month=content.text(f"resources.months.{MONTHS[when.month - 1]}", lang),
        day=str(when.day),
        at=at_time(content, when, lang),
    )


def meeting_lines(content: Content, r: Resource, lang: str, now: datetime) -> list[str]:
    """A group's next meeting in its own zone, its language and how to join."""
    m = r.meetings
    if m is None:
        return []
    nxt = next_meetings(m, now)
    if nxt:
        lines = [content.text("resources.meeting.next", lang,
                              when=meeting_when(content, nxt[0].start, lang),
                              zone=zone_label(content, m.timezone, lang))]
    else:
        lines = [content.text("resources.meeting.none", lang)]
    code = r.group_language
    if code:
        key = f"resources.language_names.{code}"
        name = content.text(key, lang) if content.has_text(key, "en") else code
        lines.append(content.text("resources.meeting.group_language", lang, language=name))
    join = _pick(content, m.join, lang)
    if join:
        lines.append(content.text("resources.meeting.join", lang, join=join))
    return lines


def _hhmm(when: datetime) -> str:
    return when.strftime("%H:%M")


def status_line(
    content: Content, schedule: Schedule, tz_name: str | None, lang: str, now: datetime
) -> str:
    """ "Open 24/7", "Open now, until 19:00 (Pacific)" or "Closed now — opens ..."."""
    if schedule.always:
        return content.text("resources.hours.always", lang)
    zone = _zone_label(content, tz_name or "", lang)
    if schedule.is_open(now):
        until = schedule.open_until(now)
        if until is not None:
            return content.text("resources.hours.open_until", lang, time=_hhmm(until), zone=zone)
    nxt = schedule.next_open(now)
    if nxt is None or schedule.is_open(now):
        return content.text("resources.hours.closed", lang)
    return content.text(
        "resources.hours.closed_opens",
        lang,
        day=_day_label(content, nxt, now, lang),
        time=_hhmm(nxt),
        zone=zone,
    )


def weekly_summary(content: Content, weekly: Mapping[Any, Sequence[str]], lang: str) -> str:
    """Compact weekly hours: "Mon–Fri 10:00–19:00; Sat 10:00–14:00"."""
    groups: list[tuple[int, int, tuple[str, ...]]] = []
    for i, day in enumerate(WEEKDAYS):
        ranges = tuple(r.replace("-", "–").replace(" ", "") for r in weekly.get(day, ()))
        if not ranges:
            continue
        if groups and groups[-1][1] == i - 1 and groups[-1][2] == ranges:
            groups[-1] = (groups[-1][0], i, ranges)
        else:
            groups.append((i, i, ranges))
    parts = []
    for first, last, ranges in groups:
        label = content.text(f"resources.days_short.{WEEKDAYS[first]}", lang)
        if last != first:
            label += "–" + content.text(f"resources.days_short.{WEEKDAYS[last]}", lang)
        parts.append(f"{label} {', '.join(ranges)}")
    return "; ".join(parts)


def contact_line(content: Content, c: Contact, lang: str) -> str:
    """One way to reach a resource, in words ("Text HOME to 741741")."""
    if c.type == "text" and c.keyword:
        line = content.text(
            "resources.contact.text_keyword", lang, keyword=c.keyword, value=c.value
        )
    else:
        line = content.text(f"resources.contact.{c.type}", lang, value=c.value)
    note = _pick(content, c.note, lang)
    return f"{line} ({note})" if note else line


def _contacts(r: Resource, lang: str) -> list[Contact]:
    """Contacts for this language; a Spanish-only option comes first for Spanish speakers."""
    usable = [c for c in r.contact if not c.languages or lang in c.languages]
    return sorted(usable, key=lambda c: 0 if lang in c.languages else 1)


def render_resource(
    content: Content, r: Resource, lang: str, now: datetime, short: bool = False
) -> str:
    """A resource as plain text; always includes the hours and whether it is open at ``now``."""
    name = _pick(content, r.name, lang)
    status = status_line(content, r.hours.schedule, r.hours.timezone, lang, now)
    contacts = _contacts(r, lang) or list(r.contact)
    demo = content.text("resources.demo_label", lang) + " " if r.demo_only else ""
    if short:
        how = " · ".join(contact_line(content, c, lang) for c in contacts[:2])
        return demo + content.text("resources.short", lang, name=name, how=how, hours=status)
    lines = [demo + name]
    desc = _pick(content, r.description, lang)
    if desc:
        lines.append(desc)
    lines += ["• " + contact_line(content, c, lang) for c in contacts]
    lines.append(status)
    if not r.hours.always:
        zone = _zone_label(content, r.hours.timezone or "", lang)
        summary = weekly_summary(content, r.hours.weekly, lang)
        weekly = content.text("resources.hours.weekly", lang, hours=summary, zone=zone)
        if r.hours.closed_on_holidays:
            weekly += " " + content.text("resources.hours.holidays", lang)
        lines.append(weekly)
    if r.schedule:
        fmt = content.text(f"resources.format.{r.format}", lang) if r.format else ""
        sched = _pick(content, r.schedule, lang)
        lines.append(
            content.text("resources.meets", lang, schedule=sched) + (f" ({fmt})" if fmt else "")
        )
    lines += meeting_lines(content, r, lang, now)
    names = [
        content.text(f"resources.language_names.{code}", lang)
        if content.has_text(f"resources.language_names.{code}", "en")
        else code
        for code in r.languages
    ]
    if names:
        lines.append(content.text("resources.languages", lang, languages=", ".join(names)))
    cost = _pick(content, r.cost, lang)
    if cost:
        lines.append(content.text("resources.cost", lang, cost=cost))
    return "\n".join(lines)
