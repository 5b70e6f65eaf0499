"""Reading where a parent is from what they typed: a ZIP code, or a state and county.

Parents type on phones, in English or Spanish, with or without accents and commas:
``78701``, ``TX``, ``texas, travis``, ``Travis County, Texas``, ``Nuevo México``.
This module only recognises places; it never produces text for the parent.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_ZIP = re.compile(r"(?<!\d)(\d{5})(?:-\d{4})?(?!\d)")

STATES: dict[str, str] = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan",
    "MN": "Minnesota", "MS": "Mississippi", "MO": "Missouri", "MT": "Montana",
    "NE": "Nebraska", "NV": "Nevada", "NH": "New Hampshire", "NJ": "New Jersey",
    "NM": "New Mexico", "NY": "New York", "NC": "North Carolina", "ND": "North Dakota",
    "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania", "PR": "Puerto Rico",
    "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota", "TN": "Tennessee",
    "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington",
    "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
}  # fmt: skip

# Spanish names parents may use (accents are stripped before matching).
_SPANISH: dict[str, str] = {
    "nuevo mexico": "NM", "nueva york": "NY", "nueva jersey": "NJ", "carolina del norte": "NC",
    "carolina del sur": "SC", "dakota del norte": "ND", "dakota del sur": "SD",
    "pensilvania": "PA", "luisiana": "LA", "misuri": "MO", "misisipi": "MS", "hawai": "HI",
    "virginia occidental": "WV", "florida": "FL", "california": "CA", "texas": "TX",
    "distrito de columbia": "DC", "oregon": "OR", "michigan": "MI", "kansas": "KS",
}  # fmt: skip

# Two-letter codes that are also everyday words ("ok", "in", "me", "de"...): only
# accepted when typed in capitals, so "ok" as an answer is not read as Oklahoma.
_AMBIGUOUS = {"IN", "ME", "OR", "OK", "OH", "HI", "PA", "DE", "LA", "MA", "AL", "ID", "MO"}

# Words around a county name that are not part of it (parsing data, never shown).
_COUNTY_NOISE = re.compile(
    r"^(?:condado\s+de\s+|condado\s+|county\s+of\s+)|\s+(?:county|parish|borough|condado)$"
)

MAX_COUNTY_LEN = 60


@dataclass(frozen=True, slots=True)
class Place:
    zip: str | None = None
    state: str | None = None  # two-letter code
    county: str | None = None


def _fold(text: str) -> str:
    """Lower-case, accents removed, punctuation turned into single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", " ", plain).strip()


_NAMES: dict[str, str] = {_fold(name): code for code, name in STATES.items()} | _SPANISH
# Longest names first, so "west virginia" wins over "virginia".
_BY_LENGTH = sorted(_NAMES, key=len, reverse=True)


def clean_county(text: str) -> str | None:
    """A county as the parent typed it, minus "County"/"condado de"; None when empty."""
    words = " ".join(re.sub(r"[^\w\s.'-]+", " ", text).split())
    words = _COUNTY_NOISE.sub("", words.lower()).strip()
    if not words or len(words) > MAX_COUNTY_LEN or words.isdigit():
        return None
    return words.title()


def parse_place(text: str) -> Place | None:
    """A ZIP code, or a state (with the county if given); None if neither is there."""
    zip_match = _ZIP.search(text)
    if zip_match:
        return Place(zip=zip_match.group(1))
    raw = text.strip()
    # A two-letter code, alone or first ("TX", "tx, Travis").
    code_match = re.match(r"^([A-Za-z]{2})(?:$|[\s,;/-]+(.*)$)", raw)
    if code_match:
        code = code_match.group(1)
        upper = code.upper()
        if upper in STATES and (code.isupper() or upper not in _AMBIGUOUS):
            return Place(state=upper, county=clean_county(code_match.group(2) or ""))
    folded = _fold(raw)
    for name in _BY_LENGTH:
        if folded == name:
            return Place(state=_NAMES[name])
        if folded.startswith(name + " "):
            return Place(state=_NAMES[name], county=clean_county(_rest(raw, name, first=True)))
        if folded.endswith(" " + name):
            return Place(state=_NAMES[name], county=clean_county(_rest(raw, name, first=False)))
    # A code at the end ("Travis County, TX").
    tail = re.match(r"^(.*?)[\s,;/-]+([A-Z]{2})$", raw)
    if tail and tail.group(2) in STATES:
        return Place(state=tail.group(2), county=clean_county(tail.group(1)))
    return None


def _rest(raw: str, name: str, *, first: bool) -> str:
    """The words of ``raw`` that are not the state name (by word count, accents kept)."""
    words = raw.replace(",", " ").split()
    n = len(name.split())
    return " ".join(words[n:] if first else words[:-n])
