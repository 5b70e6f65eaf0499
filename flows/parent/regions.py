"""Reading where a parent is from what they typed: a ZIP code, a city, a county, a state.

Parents type on phones, in English or Spanish, with or without accents and commas:
``78701``, ``my zip is 78701``, ``TX``, ``texas, travis``, ``Travis County, Texas``,
``condado de Travis``, ``Austin, TX``, ``vivo en Austin``, ``Nuevo México``; or they share
a Telegram location. ZIPs, cities and locations are looked up offline in the ``zipcodes``
package's data (ZIP -> county and state, county -> state, city -> county and state, point
-> nearest ZIP); see docs/regions.md for why that package.

The line does not load the package itself: its data costs 37 MB of memory in every
process from the first query on, for the handful of columns used here. Instead
``flows/parent/data/us-places.tsv.gz`` holds those columns, derived from the package by
``parentline places build`` (byte for byte the same from the same package version;
``tests/flows/test_regions_lookup.py`` fails when the installed package gives another
table). This module only recognises places; it never produces text for the parent.
"""

from __future__ import annotations

import gzip
import io
import math
import re
import unicodedata
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from flows.content.us_states import STATES

_ZIP = re.compile(r"(?<!\d)(\d{5})(?:-\d{4})?(?!\d)")

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
MAX_PLACE_TEXT = 200  # an answer to "where are you?" is short; a long story is not a place

# "I live in ...", "vivo en ...": words before a place that are not part of it.
_LEAD = re.compile(
    r"^(?:(?:i|we)\s+live\s+in|live\s+in|i'?m\s+in|i\s+am\s+in|we'?re\s+in|we\s+are\s+in"
    r"|i'?m\s+near|near|around|in|my\s+city\s+is|the\s+city\s+of|city\s+of"
    r"|viv[oe]\s+en|vivimos\s+en|estoy\s+en|estamos\s+en|cerca\s+de|en"
    r"|mi\s+ciudad\s+es|la\s+ciudad\s+de|ciudad\s+de)\s+",
    re.IGNORECASE,
)
_COUNTY_WORD = re.compile(r"\b(?:county|parish|borough|condado)\b")

# Territories and military "states" in the ZIP data, besides :data:`STATES`.
_OTHER_CODES = ("AS", "GU", "MP", "VI", "FM", "MH", "PW", "AA", "AE", "AP")
# Suffixes the ZIP data puts after a county's name. The region keeps the name without
# "County"/"Parish"/"Borough" (as :func:`clean_county` and ``Serves.covers`` do); the
# lookup key also drops the rarer ones, so "Juneau" finds "Juneau City and Borough".
_KEPT_OFF = (" County", " Parish", " Borough")
_KEY_OFF = (" city and borough", " census area", " municipality", " municipio")
# A city name shared by several states is read as the one that holds at least this share
# of the ZIP codes of that name ("Houston" is Texas); otherwise the state is asked for.
CITY_DOMINANCE = 0.9
# A shared location farther than this from every ZIP centroid is not matched to any.
MAX_LOCATION_MILES = 60.0
EARTH_RADIUS_MILES = 3958.8
_CENTROIDS = frozenset({"STANDARD", "PO BOX"})


@dataclass(frozen=True, slots=True)
class Place:
    zip: str | None = None
    state: str | None = None  # two-letter code
    county: str | None = None  # without "County", as clean_county gives it
    # A city or county found in several states: the name typed, so the state can be asked.
    needs_state: str | None = None
    # "Travis County, TX" from the ZIP data, when the place was looked up (not compared).
    label: str | None = field(default=None, compare=False)


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
    """A ZIP code, a city, a county or a state, looked up as far as the data allows.

    A known ZIP gives its county and state; a county or a city alone gives its state
    (or ``needs_state`` when several states have one of that name); a state with a city
    or county gives the county. An unknown ZIP is kept as typed (resources may list ZIP
    prefixes), with no county or state guessed. ``None`` when no place is there.
    """
    if len(text) > MAX_PLACE_TEXT:
        return None
    zip_match = _ZIP.search(text)
    if zip_match:
        return place_for_zip(zip_match.group(1))
    raw = _LEAD.sub("", text.strip().rstrip(".!?")).strip()
    # A two-letter code, alone or first ("TX", "tx, Travis").
    code_match = re.match(r"^([A-Za-z]{2})(?:$|[\s,;/-]+(.*)$)", raw)
    if code_match:
        code = code_match.group(1)
        upper = code.upper()
        if upper in STATES and (code.isupper() or upper not in _AMBIGUOUS):
            return _in_state(upper, code_match.group(2) or "")
    folded = _fold(raw)
    if folded in _NAMES:
        return Place(state=_NAMES[folded])
    alone = _without_state(raw)
    if alone is not None:
        return alone
    # A code at the end ("Travis County, TX", "Austin, TX", "Washington County, OR").
    tail = re.match(r"^(.*?)[\s,;/-]+([A-Z]{2})$", raw)
    if tail and tail.group(2) in STATES:
        return _in_state(tail.group(2), tail.group(1))
    # A state's name last ("Washington County, Oregon"), else first ("Texas, Travis").
    for name in _BY_LENGTH:
        if folded.endswith(" " + name):
            return _in_state(_NAMES[name], _rest(raw, name, first=False))
    for name in _BY_LENGTH:
        if folded.startswith(name + " "):
            return _in_state(_NAMES[name], _rest(raw, name, first=True))
    return None


def place_for_zip(code: str) -> Place:
    """The county and state of a 5-digit ZIP code; just the ZIP when the data lacks it."""
    if not (len(code) == 5 and code.isdigit()):
        return Place(zip=code)
    index = _index()
    state_no = index.zip_state[int(code)]
    if not state_no:
        return Place(zip=code)
    state = index.state_codes[state_no - 1]
    county = index.zip_county[int(code)]
    full = index.county_names[county][1] if county >= 0 else ""
    return Place(zip=code, state=state, county=_kept(full) or None, label=_label(full, state))


def place_for_location(latitude: float, longitude: float) -> Place | None:
    """The place of the ZIP whose centroid is nearest (great-circle) to a shared point.

    ``None`` for coordinates that are not a point on Earth, or farther than
    :data:`MAX_LOCATION_MILES` from every ZIP (a location outside the US).
    """
    found = _index().nearest(latitude, longitude)
    return place_for_zip(found) if found else None


def place_in_state(state: str, text: str) -> Place:
    """A county or a city in a known state, as answered to "Which county?"."""
    return _in_state(state, text[:MAX_PLACE_TEXT])


def _in_state(state: str, rest: str) -> Place:
    """A state and the words next to it: a county or a city in that state, if any."""
    typed = clean_county(rest)
    if typed is None:
        return Place(state=state)
    index = _index()
    key = _fold(typed)
    if not _COUNTY_WORD.search(_fold(rest)):
        city = index.city_county(key, state)
        if city is not None:
            return _county_place(city)
    if _NAMES.get(key) == state:  # "Texas, TX": the state said twice
        return Place(state=state)
    for county in index.counties.get(key, ()):
        if index.county_names[county][0] == state:
            return _county_place(county)
    return Place(state=state, county=typed)  # not in the data: kept as typed


def _without_state(raw: str) -> Place | None:
    """A city or county named alone ("vivo en Austin", "Travis County")."""
    folded = _fold(raw)
    if len(folded) < 3 or len(folded) > MAX_COUNTY_LEN or folded.isdigit():
        return None
    index = _index()
    if not _COUNTY_WORD.search(folded):
        by_state = index.city_states(folded) or index.city_states(folded.removesuffix(" city"))
        if by_state:
            county = _dominant(by_state)
            return Place(needs_state=raw) if county is None else _county_place(county)
    typed = clean_county(raw)
    counties = index.counties.get(_fold(typed), ()) if typed else ()
    for word in ("parish", "borough"):  # only Louisiana has parishes, only Alaska boroughs
        if word in folded.split():
            counties = tuple(c for c in counties if word in _fold(index.county_names[c][1]))
    if not counties:
        return None
    if len(counties) > 1:
        return Place(needs_state=raw)
    return _county_place(counties[0])


def _dominant(by_state: dict[str, list[tuple[int, int]]]) -> int | None:
    """The county with most ZIPs of a city name, in the state holding nearly all of them
    (:data:`CITY_DOMINANCE`); ``None`` when the name is shared more evenly."""
    totals = {state: sum(n for _, n in pairs) for state, pairs in by_state.items()}
    state = max(totals, key=lambda s: totals[s])
    if totals[state] < CITY_DOMINANCE * sum(totals.values()):
        return None
    return by_state[state][0][0]


def _county_place(county: int) -> Place:
    state, full = _index().county_names[county]
    return Place(state=state, county=_kept(full), label=_label(full, state))


def _kept(full: str) -> str:
    for suffix in _KEPT_OFF:
        if full.endswith(suffix):
            return full.removesuffix(suffix)
    return full


def _key(full: str) -> str:
    key = _fold(_kept(full))
    for suffix in _KEY_OFF:
        key = key.removesuffix(suffix)
    for prefix in ("municipality of ", "city and borough of "):  # "Municipality of Anchorage"
        key = key.removeprefix(prefix)
    return key


def _label(full: str, state: str | None) -> str | None:
    """"Travis County, TX"; ``None`` without a county (military ZIPs have none)."""
    return f"{full}, {state}" if full and state else None


class _Index:
    """Cities, counties and ZIP centroids of the ``zipcodes`` data, built once.

    Memory-light: counties are numbered; a city maps to one flat tuple of
    ``(county number, ZIP count)`` pairs; centroids are ``array``s (float32, about a
    metre of precision) sorted into one-degree cells, so a nearest-ZIP search looks at a
    few cells, not 42,000 ZIPs. Only STANDARD and PO BOX ZIPs that are active count as
    centroids (not single-building or military ones).
    """

    def __init__(self, rows: Iterable[PlaceRow]) -> None:
        self.county_names: list[tuple[str, str]] = []  # number -> (state, full name)
        counties: dict[str, list[int]] = defaultdict(list)  # key -> numbers
        cities: dict[str, Counter[int]] = defaultdict(Counter)
        numbers: dict[tuple[str, str], int] = {}  # (state, county key) -> number
        lats, lons, zips = array("f"), array("f"), array("I")
        # Every ZIP's state (1 + its number in ``state_codes``; 0: unknown ZIP) and county
        # number (-1: none in the data), indexed by the ZIP itself: 500 kB in all.
        self.state_codes: tuple[str, ...] = (*STATES, *_OTHER_CODES)
        state_number = {code: i + 1 for i, code in enumerate(self.state_codes)}
        self.zip_state = array("B", bytes(100_000))
        self.zip_county = array("i", [-1]) * 100_000
        for row in rows:
            code, zip_no = row.state, int(row.zip_code)
            if code not in state_number:
                continue
            self.zip_state[zip_no] = state_number[code]
            full = row.county
            if not full:
                continue
            key = _key(full)  # one county even when the data spells it two ways
            number = numbers.get((code, key))
            if number is None:
                number = numbers[(code, key)] = len(self.county_names)
                self.county_names.append((code, full))
                counties[key].append(number)
            self.zip_county[zip_no] = number
            city = _fold(row.city)
            if city:
                cities[city][number] += 1
            if not row.centroid:
                continue
            try:
                lat, lon = float(row.lat), float(row.long)
            except ValueError:
                continue
            if math.isfinite(lat) and math.isfinite(lon):
                lats.append(lat)
                lons.append(lon)
                zips.append(zip_no)
        self.counties: dict[str, tuple[int, ...]] = {k: tuple(v) for k, v in counties.items()}
        self.cities: dict[str, tuple[int, ...]] = {
            k: tuple(x for pair in c.most_common() for x in pair) for k, c in cities.items()
        }
        del counties, cities, numbers
        order = sorted(range(len(zips)), key=lambda i: (_cell(lats[i]), _cell(lons[i])))
        self.lats = array("f", (lats[i] for i in order))
        self.lons = array("f", (lons[i] for i in order))
        self.zips = array("I", (zips[i] for i in order))
        self.cells: dict[tuple[int, int], tuple[int, int]] = {}
        for i, (lat, lon) in enumerate(zip(self.lats, self.lons, strict=True)):
            cell = (_cell(lat), _cell(lon))
            start, _ = self.cells.get(cell, (i, i))
            self.cells[cell] = (start, i + 1)

    def canonical(self, state: str, full: str) -> str:
        """The one spelling used for a county the data spells two ways."""
        for number in self.counties.get(_key(full), ()):
            if self.county_names[number][0] == state:
                return self.county_names[number][1]
        return full

    def city_states(self, city: str) -> dict[str, list[tuple[int, int]]]:
        """Per state, ``(county number, ZIP count)`` of a city name, most ZIPs first."""
        flat = self.cities.get(city, ())
        out: dict[str, list[tuple[int, int]]] = {}
        for county, count in zip(flat[::2], flat[1::2], strict=True):
            out.setdefault(self.county_names[county][0], []).append((county, count))
        return out

    def city_county(self, city: str, state: str) -> int | None:
        pairs = self.city_states(city).get(state)
        return pairs[0][0] if pairs else None

    def nearest(self, latitude: float, longitude: float) -> str | None:
        """The ZIP nearest to a point, within :data:`MAX_LOCATION_MILES`, or ``None``."""
        if not (math.isfinite(latitude) and math.isfinite(longitude)):
            return None
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            return None
        reach = MAX_LOCATION_MILES / EARTH_RADIUS_MILES  # radians
        dlat = math.ceil(math.degrees(reach)) + 1
        cos = max(math.cos(math.radians(min(abs(latitude) + dlat, 89.9))), 1e-6)
        dlon = min(math.ceil(math.degrees(reach) / cos) + 1, 180)
        lat0, lon0 = _cell(latitude), _cell(longitude)
        best, best_i = reach, -1
        for cell_lat in range(lat0 - dlat, lat0 + dlat + 1):
            for step in range(-dlon, dlon + 1):
                cell_lon = (lon0 + step + 180) % 360 - 180
                span = self.cells.get((cell_lat, cell_lon))
                if span is None:
                    continue
                for i in range(*span):
                    d = _angle(latitude, longitude, self.lats[i], self.lons[i])
                    if d <= best:
                        best, best_i = d, i
        return f"{self.zips[best_i]:05d}" if best_i >= 0 else None


def _cell(degrees: float) -> int:
    return math.floor(degrees)


def _angle(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle angle between two points, in radians (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True, slots=True)
class PlaceRow:
    """The columns of one ZIP this module uses, as the shipped table keeps them."""

    zip_code: str
    state: str
    county: str
    city: str
    centroid: bool  # an active STANDARD or PO BOX ZIP: a point a location can match
    lat: str
    long: str


TABLE = Path(__file__).resolve().parent / "data" / "us-places.tsv.gz"
_COLUMNS = ("zip_code", "state", "county", "city", "centroid", "lat", "long")


def rows_from_package() -> list[PlaceRow]:
    """The table's rows, read from the installed ``zipcodes`` package (build time only)."""
    import zipcodes  # not at import: the line itself reads the shipped table

    out = []
    for row in zipcodes.list_all():
        centroid = row.get("active") is not False and row.get("zip_code_type") in _CENTROIDS
        out.append(PlaceRow(
            zip_code=str(row["zip_code"]), state=str(row.get("state") or ""),
            county=str(row.get("county") or ""), city=str(row.get("city") or ""),
            centroid=centroid, lat=str(row.get("lat") or ""), long=str(row.get("long") or "")))
    out.sort(key=lambda r: r.zip_code)
    return out


def table_bytes(rows: Iterable[PlaceRow]) -> bytes:
    """The shipped table for ``rows``: TSV, gzip without a timestamp (reproducible)."""
    text = io.StringIO()
    text.write("\t".join(_COLUMNS) + "\n")
    for r in rows:
        cells = (r.zip_code, r.state, r.county, r.city, "1" if r.centroid else "0", r.lat,
                 r.long)
        text.write("\t".join(c.replace("\t", " ") for c in cells) + "\n")
    return gzip.compress(text.getvalue().encode("utf-8"), compresslevel=9, mtime=0)


def build_table(path: Path = TABLE) -> int:
    """Write the shipped table from the installed package; returns the number of ZIPs."""
    rows = rows_from_package()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(table_bytes(rows))
    return len(rows)


def read_table(path: Path = TABLE) -> Iterator[PlaceRow]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        if tuple(header) != _COLUMNS:
            raise ValueError(f"{path.name}: unexpected columns; run `parentline places build`")
        for line in f:
            z, st, county, city, centroid, lat, lon = line.rstrip("\n").split("\t")
            yield PlaceRow(z, st, county, city, centroid == "1", lat, lon)


_built: _Index | None = None


def _index() -> _Index:
    global _built
    if _built is None:
        _built = _Index(read_table())
    return _built


def warm() -> None:
    """Build the lookup now (a fraction of a second) rather than on the first answer."""
    _index()


def _rest(raw: str, name: str, *, first: bool) -> str:
    """The words of ``raw`` that are not the state name (by word count, accents kept)."""
    words = raw.replace(",", " ").split()
    n = len(name.split())
    return " ".join(words[n:] if first else words[:-n])
