"""Turn one HSDS service into one of our resource entries, or say why it cannot be one.

Nothing is guessed that a parent could be hurt by: a category comes only from the
coordinators' taxonomy map (``content/resources/hsds-taxonomy.yaml``), hours only from
weekly schedules in the source (a service without them is skipped, never shown "open"),
and a phone number only if ``content check`` would accept it. Imported entries are
never ``crisis: true``; that is a coordinator's decision, made by hand.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from flows.content.check import phone_ok
from flows.content.hours import zone
from flows.content.hsds.read import Service, Slot, Term
from flows.content.models import Resource
from flows.content.us_states import STATES

FIELDS = (
    "name", "kind", "description", "categories", "serves", "contact", "hours",
    "languages", "cost", "verified_on", "source",
)
"""The fields the importer owns, in the order it writes them (after ``id``)."""

_DAYS = {"MO": "mon", "TU": "tue", "WE": "wed", "TH": "thu", "FR": "fri", "SA": "sat",
         "SU": "sun"}
_ORDER = list(_DAYS.values())
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?$")
_LANGS = {
    "english": "en", "eng": "en", "spanish": "es", "español": "es", "espanol": "es",
    "spa": "es", "chinese": "zh", "mandarin": "zh", "cantonese": "zh", "zho": "zh",
    "vietnamese": "vi", "vie": "vi", "tagalog": "tl", "tgl": "tl", "korean": "ko",
    "kor": "ko", "arabic": "ar", "ara": "ar", "russian": "ru", "rus": "ru", "french": "fr",
    "fra": "fr", "haitian creole": "ht", "hat": "ht", "portuguese": "pt", "por": "pt",
}
_STATES = {name.lower(): code for code, name in STATES.items()}
_CODES = {*_STATES.values(), "EX"}  # EX: the fictional example state
_NATIONAL = {"national", "nationwide", "united states", "usa", "us", "u.s."}
_COUNTY = re.compile(r"^(.+?\b(?:county|parish|borough))\s*,\s*(.+)$", re.IGNORECASE)


@dataclass
class Converted:
    """The entry for one service (or ``None`` and why), and what a coordinator should see."""

    service_id: str
    entry: dict[str, Any] | None = None
    skipped: str | None = None
    dated: bool = False  # verified_on came from the source (assured_date / last_modified)
    notes: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)


def slug(text: str) -> str:
    """Lower-case letters, digits and dashes: safe in an id and a file name."""
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-") or "x"


def _hhmm(text: str | None) -> str | None:
    m = _TIME.match((text or "").strip())
    if not m or int(m[1]) > 24 or int(m[2]) > 59:
        return None
    return f"{int(m[1]):02d}:{m[2]}"


def _offsets(tz: str, year: int) -> set[float]:
    """UTC offsets (hours) of ``tz`` in winter and summer: what an HSDS offset may be."""
    out = set()
    for month in (1, 7):
        delta = datetime(year, month, 1, 12, tzinfo=zone(tz)).utcoffset()
        out.add(delta.total_seconds() / 3600 if delta is not None else 0.0)
    return out


def _weekly(
    slots: list[Slot], tz: str, today: date, notes: list[str]
) -> dict[str, list[str]]:
    week: dict[str, set[str]] = {}
    allowed = _offsets(tz, today.year)
    for s in slots:
        if s.valid_to and s.valid_to[:10] < today.isoformat():
            continue
        try:
            offset = float(s.timezone) if s.timezone not in (None, "") else None
        except ValueError:
            offset = None
        if offset is not None and offset not in allowed:
            # Hours read in the wrong zone would show a closed line as open at night.
            notes.append(
                f"a schedule is in UTC{offset:+g}, but --timezone {tz} is "
                + " or ".join(f"UTC{o:+g}" for o in sorted(allowed))
                + "; it was left out (import this source with its own --timezone)"
            )
            continue
        if (s.freq or "WEEKLY").upper() != "WEEKLY" or (s.interval or "1") not in ("1", "1.0"):
            notes.append(f"a {s.freq or ''} schedule every {s.interval} was left out (not weekly)")
            continue
        opens, closes = _hhmm(s.opens_at), _hhmm(s.closes_at)
        days = [d.strip().upper() for d in (s.byday or "").split(",") if d.strip()]
        if not opens or not closes or not days or any(d not in _DAYS for d in days):
            notes.append(f"a schedule ({s.byday} {s.opens_at}-{s.closes_at}) was not understood")
            continue
        for code in days:
            day = _DAYS[code]
            if closes == "00:00":
                closes = "24:00"
            if closes > opens:
                week.setdefault(day, set()).add(f"{opens}-{closes}")
            else:  # past midnight: the rest of this day and the start of the next
                week.setdefault(day, set()).add(f"{opens}-24:00")
                nxt = _ORDER[(_ORDER.index(day) + 1) % 7]
                week.setdefault(nxt, set()).add(f"00:00-{closes}")
    return {d: sorted(week[d]) for d in _ORDER if d in week}


def _hours(svc: Service, tz: str, today: date, notes: list[str]) -> dict[str, Any] | None:
    slots = svc.schedules or [s for sal in svc.service_at_locations
                              for s in sal.schedules + (sal.location.schedules
                                                        if sal.location else [])]
    weekly = _weekly(slots, tz, today, notes)
    if not weekly:
        return None
    if len(weekly) == 7 and all(v in (["00:00-24:00"], ["00:00-23:59"]) for v in weekly.values()):
        return {"always": True}
    return {"timezone": tz, "weekly": weekly}


def _serves(svc: Service, notes: list[str]) -> dict[str, Any]:
    states: list[str] = []
    counties: list[dict[str, str]] = []
    zips: list[str] = []
    for area in svc.service_areas:
        text = (area.name or "").strip()
        key = text.casefold().rstrip(".")
        county = _COUNTY.match(text)
        state = _STATES.get(key) or (text.upper() if text.upper() in _CODES else None)
        if key in _NATIONAL:
            return {"national": True}
        if state:
            states.append(state)
        elif county and (st := _STATES.get(county[2].strip().casefold(),
                                           county[2].strip().upper())) in _CODES:
            counties.append({"state": st, "county": county[1].strip()})
        elif re.fullmatch(r"\d{3}|\d{5}", text):
            zips.append(text)
        elif text:
            notes.append(f'service area "{text}" was not understood (expected "CA", '
                         '"Alameda County, CA" or a ZIP code)')
    if not (states or counties or zips):
        for loc in svc.locations:
            for a in loc.addresses:
                if (a.address_type or "physical") == "physical" and a.postal_code:
                    zips.append(a.postal_code.strip()[:5])
        if zips:
            notes.append("no service area in the source: it serves its own ZIP code only; "
                         "widen 'serves' by hand if it serves more")
    out: dict[str, Any] = {}
    if states:
        out["states"] = sorted(set(states))
    if counties:
        out["counties"] = [dict(c) for c in {(c["state"], c["county"]): c
                                             for c in counties}.values()]
    if zips:
        out["zip_prefixes"] = sorted(set(zips))
    return out


def _contact(svc: Service, notes: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    org = svc.organization
    phones = svc.phones + [p for sal in svc.service_at_locations for p in sal.phones] + [
        p for loc in svc.locations for p in loc.phones
    ]
    for p in phones:
        kind = (p.type or "voice").strip().casefold()
        if kind in ("fax", "pager", "video"):
            continue
        ctype = "text" if kind in ("text", "sms") else "phone"
        number = p.number.strip()
        if not phone_ok(number):
            notes.append(f'phone "{number}" was left out: it is not a number we can dial')
            continue
        key = ctype + ":" + re.sub(r"\D", "", number)
        if key in seen:
            continue
        seen.add(key)
        item: dict[str, Any] = {"type": ctype, "value": number}
        ext = (p.extension or "").removesuffix(".0")
        if ext:
            item["note"] = {"en": f"extension {ext}", "es": f"extensión {ext}"}
        out.append(item)
    url = svc.url or (org.url if org else None)
    if url:
        out.append({"type": "web", "value": url.strip()})
    email = svc.email or (org.email if org else None)
    if email:
        out.append({"type": "email", "value": email.strip()})
    for loc in svc.locations:
        for a in loc.addresses:
            if (a.address_type or "physical") != "physical" or not a.address_1:
                continue
            tail = " ".join(x for x in (a.state_province, a.postal_code) if x)
            value = ", ".join(x.strip() for x in (a.address_1, a.city, tail) if x)
            if not any(c["value"] == value for c in out):
                out.append({"type": "address", "value": value})
    return out


def _languages(svc: Service, notes: list[str]) -> list[str]:
    out: list[str] = []
    for lg in svc.languages + [lg for loc in svc.locations for lg in loc.languages]:
        code = (lg.code or "").strip().casefold()
        name = (lg.name or "").strip().casefold()
        found = (code if len(code) == 2 and code.isalpha() else None) or _LANGS.get(code) or (
            _LANGS.get(name)
        )
        if found is None:
            notes.append(f'language "{lg.name or lg.code}" was not recognised; add it by hand')
        elif found not in out:
            out.append(found)
    return out


def map_term(term: Term, taxonomy: Mapping[str, list[str]]) -> list[str] | None:
    """Our categories for a term: its code, else its closest parent code, else its name.

    AIRS/211 codes are hierarchical (``BD-1800.2000`` is under ``BD-1800``, under ``BD``,
    under ``B``), so a coordinator maps a branch once. ``None`` when nothing matches.
    """
    folded = {k.casefold(): v for k, v in taxonomy.items()}
    code = (term.code or "").strip()
    while code:
        if code.casefold() in folded:
            return folded[code.casefold()]
        cut = max(code.rfind("."), code.rfind("-"))
        code = code[:cut] if cut > 0 else code[:-1]
    name = (term.name or "").strip().casefold()
    return folded.get(name) if name else None


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat((text or "")[:10])
    except ValueError:
        return None


def convert(
    svc: Service,
    *,
    source: str,
    version: str,
    timezone: str,
    taxonomy: Mapping[str, list[str]],
    language: str = "en",
    today: date,
) -> Converted:
    """The resource entry for ``svc`` (plain data, validated by :class:`Resource`)."""
    out = Converted(service_id=svc.id)
    status = (svc.status or "active").strip().casefold()
    if status != "active":
        out.skipped = f"its status is {status!r} in the source"
        return out
    hours = _hours(svc, timezone, today, out.notes)
    if hours is None:
        out.skipped = "it has no weekly opening hours in the source"
        return out
    serves = _serves(svc, out.notes)
    if not serves:
        out.skipped = "it has no service area or address we can match a parent's place to"
        return out
    contact = _contact(svc, out.notes)
    if not contact:
        out.skipped = "it has no phone, web address, email or address"
        return out
    categories: list[str] = []
    for term in svc.terms:
        mapped = map_term(term, taxonomy)
        if mapped is None:
            out.unmapped.append(" ".join(x for x in (term.code, f'"{term.name}"'
                                                     if term.name else None) if x))
        for cat in mapped or []:
            if cat not in categories:
                categories.append(cat)
    org = svc.organization
    description = (svc.description or (org.description if org else None) or svc.name).strip()
    verified = _date(svc.assured_date) or _date(svc.last_modified)
    out.dated = verified is not None
    entry: dict[str, Any] = {
        "id": f"{slug(source)}-{slug(svc.id)}",
        "name": {language: svc.name.strip()},
        "kind": "service",
        "description": {language: description},
        "categories": categories,
        "serves": serves,
        "contact": contact,
        "hours": hours,
    }
    if langs := _languages(svc, out.notes):
        entry["languages"] = langs
    if fees := (svc.fees_description or svc.fees):
        entry["cost"] = {language: fees.strip()}
    entry["verified_on"] = (verified or today).isoformat()
    entry["source"] = f"Open Referral HSDS {version} import from {source}, service {svc.id}"
    try:
        Resource.model_validate(entry)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        out.skipped = f"its {where} cannot be used ({first['msg']})"
        return out
    out.entry = entry
    return out
