"""What the edge reads from locations, live locations and albums (issue #13)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from bot.telegram.updates import parse_update

CHAT = {"id": 42, "type": "private"}
USER = {"id": 42, "is_bot": False, "first_name": "P"}


def _msg(**fields: Any) -> dict[str, Any]:
    return {"message_id": 7, "date": 1, "chat": CHAT, "from": USER, **fields}


def test_a_location_carries_its_point_and_a_live_one_says_so() -> None:
    still = parse_update({"update_id": 1, "message": _msg(
        location={"latitude": 30.2672, "longitude": -97.7431})})
    assert (still.kind, still.media, still.location, still.live) == (
        "media", "location", (30.2672, -97.7431), False)
    live = parse_update({"update_id": 2, "message": _msg(
        location={"latitude": 30.2672, "longitude": -97.7431, "live_period": 900})})
    assert live.live and live.location == (30.2672, -97.7431)


def test_a_live_locations_new_point_is_an_edit_that_says_it_is_a_location() -> None:
    ev = parse_update({"update_id": 3, "edited_message": _msg(
        edit_date=2, location={"latitude": 30.27, "longitude": -97.74, "live_period": 900})})
    assert (ev.kind, ev.media, ev.live) == ("edited", "location", True)
    text_edit = parse_update({"update_id": 4, "edited_message": _msg(edit_date=2, text="hi")})
    assert (text_edit.kind, text_edit.media, text_edit.live) == ("edited", None, False)


@pytest.mark.parametrize("point", [
    {"latitude": 91.0, "longitude": 0.0}, {"latitude": 0.0, "longitude": 181.0},
    {"latitude": math.nan, "longitude": 0.0}, {"latitude": "30", "longitude": "-97"},
    {"latitude": True, "longitude": 0}, {"longitude": 0.0}, "here",
])
def test_a_point_that_is_not_on_earth_is_no_point(point: Any) -> None:
    ev = parse_update({"update_id": 5, "message": _msg(location=point)})
    assert ev.kind == "media" and ev.media == "location" and ev.location is None


def test_album_items_carry_their_group() -> None:
    ev = parse_update({"update_id": 6, "message": _msg(
        media_group_id="13000000000000001", photo=[{"file_id": "x", "file_unique_id": "y",
                                                    "width": 1, "height": 1}])})
    assert (ev.kind, ev.media, ev.media_group_id) == ("media", "photo", "13000000000000001")
