"""The offline place lookup: ZIP, county, city and shared location -> county and state.

Everything runs on the real ``zipcodes`` data (no network, nothing mocked); the nearest-ZIP
search is checked against the package's own great-circle radius search.
"""

from __future__ import annotations

import math
import random
import time

import pytest
import zipcodes
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.content import Region, Serves
from flows.content.models import CountyRef
from flows.parent import regions
from flows.parent.regions import (
    MAX_LOCATION_MILES,
    Place,
    parse_place,
    place_for_location,
    place_for_zip,
    place_in_state,
)

TRAVIS = Place(zip=None, state="TX", county="Travis")


@pytest.mark.parametrize(
    "typed", ["78701", "my zip is 78701", "código postal 78701", "mi código postal es 78701-1234"]
)
def test_a_zip_gives_its_county_and_state(typed: str) -> None:
    place = parse_place(typed)
    assert place == Place(zip="78701", state="TX", county="Travis")
    assert place is not None and place.label == "Travis County, TX"


@pytest.mark.parametrize(
    ("typed", "place"),
    [
        ("Travis County", TRAVIS),
        ("travis county", TRAVIS),
        ("condado de Travis", TRAVIS),
        ("El condado de Travis", None),  # an article we do not strip: not guessed at
        ("Los Angeles County", Place(state="CA", county="Los Angeles")),
        ("Orleans Parish", Place(state="LA", county="Orleans")),
        ("Washington County, OR", Place(state="OR", county="Washington")),
        ("condado de Washington, Oregón", Place(state="OR", county="Washington")),
    ],
)
def test_a_county_gives_its_state(typed: str, place: Place | None) -> None:
    assert parse_place(typed) == place


@pytest.mark.parametrize(
    ("typed", "place"),
    [
        ("Austin, TX", TRAVIS),
        ("austin texas", TRAVIS),
        ("vivo en Austin", TRAVIS),
        ("Vivo en Austin, Texas.", TRAVIS),
        ("I live in Austin", TRAVIS),
        ("Houston", Place(state="TX", county="Harris")),
        ("estoy en Los Ángeles", Place(state="CA", county="Los Angeles")),
        ("Portland, OR", Place(state="OR", county="Multnomah")),
        ("Portland, Maine", Place(state="ME", county="Cumberland")),
        ("Dallas, TX", Place(state="TX", county="Dallas")),
        ("New York, NY", Place(state="NY", county="New York")),
        ("New York City", Place(state="NY", county="New York")),
        ("Washington, DC", Place(state="DC", county="District of Columbia")),
        ("Kansas City, Missouri", Place(state="MO", county="Jackson")),
    ],
)
def test_a_city_gives_its_county_and_state(typed: str, place: Place) -> None:
    assert parse_place(typed) == place


@pytest.mark.parametrize("typed", ["Portland", "Springfield", "Kansas City", "Washington County"])
def test_a_name_several_states_share_asks_for_the_state(typed: str) -> None:
    assert parse_place(typed) == Place(needs_state=typed)


def test_a_county_the_data_spells_two_ways_is_one_county() -> None:
    # Anchorage's ZIPs say "Anchorage Municipality" or "Municipality of Anchorage".
    spellings = {place_for_zip(row["zip_code"]).county
                 for row in zipcodes.filter_by(state="AK") if "Anchorage" in row["county"]}
    assert spellings == {"Anchorage Municipality"}


def test_a_county_the_data_does_not_know_is_kept_as_typed() -> None:
    assert parse_place("Texas, Springwood County") == Place(state="TX", county="Springwood")


@pytest.mark.parametrize("typed", ["00000", "99999", "00012"])
def test_a_zip_the_data_does_not_know_is_kept_without_a_guess(typed: str) -> None:
    place = parse_place(f"my zip is {typed}")
    assert place == Place(zip=typed)
    assert place is not None and place.label is None


@pytest.mark.parametrize(
    "typed", ["ok", "in", "me", "somewhere", "not sure", "still not sure", "1234", "", "!!!", "xx"]
)
def test_words_that_are_not_places(typed: str) -> None:
    assert parse_place(typed) is None


@pytest.mark.parametrize("text", ["a" * 10_000, "78701 " + "b" * 10_000, "Austin, " * 1_250])
def test_a_ten_thousand_character_text_is_not_a_place_and_is_quick(text: str) -> None:
    parse_place("78701")  # the data and index are loaded outside the timing
    parse_place("Austin")
    start = time.perf_counter()
    assert parse_place(text) is None
    assert time.perf_counter() - start < 0.05


def test_place_for_zip_refuses_what_is_not_five_digits() -> None:
    assert place_for_zip("7870") == Place(zip="7870")
    assert place_for_zip("7870a") == Place(zip="7870a")


@pytest.mark.parametrize(
    ("lat", "lon", "state", "county"),
    [
        (30.2672, -97.7431, "TX", "Travis"),  # Austin
        (40.7128, -74.0060, "NY", "New York"),  # Manhattan
        (21.3069, -157.8583, "HI", "Honolulu"),
        (61.2181, -149.9003, "AK", "Anchorage Municipality"),
        (18.4655, -66.1057, "PR", "San Juan Municipio"),
        (29.4241, -98.4936, "TX", "Bexar"),  # San Antonio
    ],
)
def test_a_shared_location_gives_the_nearest_zips_county_and_state(
    lat: float, lon: float, state: str, county: str
) -> None:
    place = place_for_location(lat, lon)
    assert place is not None and place.zip is not None
    assert (place.state, place.county) == (state, county)
    assert place == place_for_zip(place.zip)  # the same lookup as a typed ZIP


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        (48.8566, 2.3522),  # Paris
        (0.0, 0.0),
        (math.nan, -97.0),
        (30.0, math.inf),
        (91.0, 0.0),
        (30.0, -181.0),
    ],
)
def test_a_location_far_from_every_us_zip_or_not_on_earth_is_none(lat: float, lon: float) -> None:
    assert place_for_location(lat, lon) is None


def _brute_force_nearest(lat: float, lon: float) -> float | None:
    """Miles to the nearest active STANDARD / PO BOX ZIP, by the package's own search."""
    rows = zipcodes.filter_by_coordinates(lat, lon, MAX_LOCATION_MILES)
    distances = [
        zipcodes.haversine(lon, lat, float(r["long"]), float(r["lat"]))
        for r in rows
        if r.get("active") is not False and r.get("zip_code_type") in ("STANDARD", "PO BOX")
        and r.get("county")
    ]
    return min(distances) if distances else None


def test_the_nearest_zip_is_the_one_the_package_finds_nearest() -> None:
    rng = random.Random(15)
    points = [(rng.uniform(25, 49), rng.uniform(-124, -67)) for _ in range(40)]
    points += [(rng.uniform(55, 70), rng.uniform(-165, -140)) for _ in range(5)]  # Alaska
    for lat, lon in points:
        expected = _brute_force_nearest(lat, lon)
        place = place_for_location(lat, lon)
        if expected is None or expected > MAX_LOCATION_MILES - 0.5:
            continue  # at the edge of the reach either answer is right
        assert place is not None and place.zip is not None, (lat, lon)
        [row] = zipcodes.matching(place.zip)
        got = zipcodes.haversine(lon, lat, float(row["long"]), float(row["lat"]))
        assert got == pytest.approx(expected, abs=0.05), (lat, lon, place)


def test_a_looked_up_region_matches_county_and_state_tags() -> None:
    place = parse_place("78701")
    assert place is not None
    region = Region(place.zip, place.state, place.county)
    assert Serves(counties=[CountyRef(state="TX", county="Travis County")]).covers(region)
    assert Serves(states=["TX"]).covers(region)
    assert not Serves(counties=[CountyRef(state="TX", county="Harris County")]).covers(region)
    assert not Serves(states=["NM"]).covers(region)


def test_only_the_fictional_example_region_is_example_only() -> None:
    assert Serves(counties=[CountyRef(state="EX", county="Example County")]).example_only
    assert not Serves(counties=[CountyRef(state="TX", county="Travis County")]).example_only
    assert not Serves(states=["TX"]).example_only
    assert not Serves(national=True).example_only


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_is_a_place_or_none_never_an_error(text: str) -> None:
    place = parse_place(text)
    assert place is None or isinstance(place, Place)
    if place is not None and place.county:
        assert len(place.county) <= 80


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True), st.floats(allow_nan=True,
                                                                 allow_infinity=True))
def test_any_pair_of_numbers_is_a_location_or_none(lat: float, lon: float) -> None:
    place = place_for_location(lat, lon)
    assert place is None or (place.zip is not None and place.state is not None)


def test_the_county_answer_in_a_known_state() -> None:
    assert place_in_state("TX", "Austin") == TRAVIS
    assert place_in_state("TX", "Travis County") == TRAVIS
    assert place_in_state("TX", "Nowhere Special") == Place(state="TX", county="Nowhere Special")
    assert place_in_state("TX", "x" * 10_000) == Place(state="TX")


def test_the_shipped_table_is_the_installed_package_s_data() -> None:
    """The line reads ``flows/parent/data/us-places.tsv.gz``, not the package: it must be
    what ``parentline places build`` makes from the installed ``zipcodes`` (rebuild it
    after upgrading the package)."""
    fresh = regions.table_bytes(regions.rows_from_package())
    assert regions.TABLE.read_bytes() == fresh
    assert len(list(regions.read_table())) > 40_000


def test_the_line_never_loads_the_package_data() -> None:
    """Its data costs 37 MB in every process from the first query on; the shipped table
    gives the same answers without it."""
    import subprocess
    import sys

    code = ("import sys; from flows.parent import regions; "
            "p = regions.parse_place('my zip is 78701'); "
            "print(p.county, p.state, 'zipcodes' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["Travis", "TX", "False"]
