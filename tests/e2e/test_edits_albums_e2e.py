"""Edits, live locations and albums over real HTTP (issue #13).

A live location edits its message every few seconds: those edits get no answer. Other
edits get "I saw you edited" at most once per ten minutes. A specialist's edit edits the
parent's copy. An album (ten updates sharing ``media_group_id``) is one message: one
answer, no flood, and one album for the specialist. A location shared at the region
question finds the county and the state resources.

"Silent" is checked without timing: the parent then sends /help, and since a chat's
updates and replies keep their order, everything the line would have said about the
earlier updates is in the transcript before the help text.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import Line, Person
from sqlalchemy import select

from core.storage.models import Parent
from flows.content.models import Region

AUSTIN = (30.2672, -97.7431)  # downtown Austin: Travis County, TX
COUNTY = "example-travis-county-family-line"
STATE = "example-texas-parent-line"




@pytest.fixture
def line_overrides() -> dict[str, Any]:
    return {"demo": True}  # the example county and state resources are shown


def t(line: Line, key: str, lang: str = "en", **kw: Any) -> str:
    return line.runtime.content.current.text(key, lang, **kw)


async def help_text_read(line: Line, parent: Person, lang: str = "en") -> list[str]:
    """Everything the parent was sent up to the answer to /help (in chat order)."""
    parent.says("/help")
    help_start = t(line, "parent.help", lang)[:25]
    await parent.saw(help_start)
    texts = parent.texts()
    return texts[: next(i for i, x in enumerate(texts) if help_start in x)]


async def with_peer(line: Line, parent_id: int, staff_id: int) -> tuple[Person, Person]:
    peer = await line.specialist(staff_id, "Ana")
    peer.says("/onduty")
    await peer.reads("on duty")
    parent = line.parent(parent_id)
    await parent.talks()
    await parent.reads("in line")
    peer.says("/next")
    await parent.reads("has joined")
    return parent, peer


async def test_live_location_edits_get_no_answer(line: Line) -> None:
    parent = line.parent(1301)
    parent.says("/start")
    await parent.reads()
    shared = line.fake.user_sends_location(1301, 40.7128, -74.006, live_period=900)
    await parent.reads(t(line, "parent.media")[:30])  # a location is answered as before
    for step in range(6):
        line.fake.user_moves(1301, shared["message_id"], 40.7128 + step / 1000, -74.006)
    before_help = await help_text_read(line, parent)
    assert not any(t(line, "common.edited_ignored")[:20] in x for x in before_help)
    assert len([x for x in before_help if t(line, "parent.media")[:30] in x]) == 1


async def test_i_saw_you_edited_is_said_once_per_ten_minutes(line: Line) -> None:
    parent = line.parent(1302)
    parent.says("/start")
    await parent.reads()
    msg = parent.says("my daughter won't go to school")
    for n in range(4):
        line.fake.user_edits(1302, msg["message_id"], f"my daughter won't go to school ({n})")
    before_help = await help_text_read(line, parent)
    said = [x for x in before_help if x == t(line, "common.edited_ignored")]
    assert len(said) == 1


async def test_a_specialists_edit_edits_the_parents_copy(line: Line) -> None:
    parent, ana = await with_peer(line, 1303, 7301)
    sent = ana.says("Let's talk again on Tuesday evening.")
    await parent.reads("Tuesday evening")
    line.fake.user_edits(7301, sent["message_id"], "Let's talk again on Wednesday evening.")

    def edited_copy() -> bool:
        return any(m["text"] == "Let's talk again on Wednesday evening." and m["edited"]
                   for m in line.fake.messages_to(1303))

    await line.fake.wait_until(edited_copy, 10)
    # The copy itself changed: no second message, no trace of the old words.
    assert sum("Wednesday" in x for x in parent.texts()) == 1
    assert not any("Tuesday" in x for x in parent.texts())
    assert not any(t(line, "staff.edit_not_relayed")[:20] in x for x in ana.texts())

    # Once the conversation is over, an edit can't be carried: the specialist is told.
    ana.says("/end")
    await parent.reads(t(line, "handoff.ended_thanks")[:30])
    line.fake.user_edits(7301, sent["message_id"], "Let's talk again on Friday.")
    await ana.saw(t(line, "staff.edit_not_relayed")[:30])
    assert not any("Friday" in x for x in parent.texts())


async def test_an_album_reaches_the_specialist_as_one_album_and_is_no_flood(line: Line) -> None:
    parent, _peer = await with_peer(line, 1304, 7302)
    line.fake.user_sends_album(1304, ["photo"] * 10, caption="the school's letters")

    def album() -> list[dict[str, Any]]:
        return [m for m in line.fake.messages_to(7302) if m["kind"] == "photo"]

    await line.fake.wait_until(lambda: len(album()) == 10, 15)
    items = album()
    assert {m["method"] for m in items} == {"copyMessages"}
    assert len({m["media_group_id"] for m in items}) == 1 and items[0]["media_group_id"]
    assert items[0]["text"] == "the school's letters"
    parent.says("did you get them?")
    await line.fake.wait_until(
        lambda: any(m["text"] == "did you get them?" for m in line.fake.messages_to(7302)), 10)
    assert not any(t(line, "common.slow_down")[:20] in x for x in parent.texts())
    assert sum(t(line, "handoff.media_notice")[:30] in x for x in parent.texts()) == 1


async def test_a_specialists_album_reaches_the_parent_as_one_album(line: Line) -> None:
    await with_peer(line, 1307, 7303)
    line.fake.user_sends_album(7303, ["photo", "photo", "video"], caption="our group's flyer")

    def album() -> list[dict[str, Any]]:
        return [m for m in line.fake.messages_to(1307) if m["kind"] in ("photo", "video")]

    await line.fake.wait_until(lambda: len(album()) == 3, 15)
    items = album()
    assert {m["method"] for m in items} == {"copyMessages"}
    assert len({m["media_group_id"] for m in items}) == 1 and items[0]["media_group_id"]
    assert [m["kind"] for m in items] == ["photo", "photo", "video"]
    assert items[0]["text"] == "our group's flyer"


async def test_an_album_outside_a_conversation_gets_one_answer(line: Line) -> None:
    parent = line.parent(1305)
    parent.says("/start")
    await parent.reads()
    line.fake.user_sends_album(1305, ["photo", "video"] * 5)
    before_help = await help_text_read(line, parent)
    assert sum(t(line, "parent.media")[:30] in x for x in before_help) == 1
    assert not any(t(line, "common.slow_down")[:20] in x for x in before_help)


@pytest.mark.parametrize("lang", ["en", "es"])
async def test_a_location_at_the_region_question_finds_county_and_state(
        line: Line, lang: str) -> None:
    parent = line.parent(1306, lang=lang)
    parent.says("/resources")
    await parent.reads(t(line, "parent.region.ask", lang)[:25])
    shared = line.fake.user_sends_location(1306, *AUSTIN, live_period=3600)
    await parent.reads(t(line, "parent.region.found", lang, place="Travis County, TX"))
    await parent.saw(t(line, "parent.resources.after", lang)[:20])  # the last of them
    async with line.runtime.db.read() as s:
        row = (await s.scalars(select(Parent).where(Parent.tg_user_id == 1306))).one()
    assert (row.region_state, row.region_county) == ("TX", "Travis") and row.region_zip
    # The county's and the state's resources are the ones for that region (which of them
    # fit in the first five shown depends on the hour: open services come first).
    region = Region(zip=row.region_zip, state=row.region_state, county=row.region_county)
    offered = line.runtime.content.current.resources_for(
        categories=None, region=region, lang=lang, now=datetime.now(UTC), demo=True)
    assert {COUNTY, STATE} <= {r.id for r in offered}
    given = row.flow_data["resources_shared"]
    assert given and set(given) <= {r.id for r in offered}
    names = {r.id: r.name[lang] for r in offered}
    assert all(any(names[i] in x for x in parent.texts()) for i in given)
    for step in range(3):  # the live location goes on moving: nothing more is said
        line.fake.user_moves(1306, shared["message_id"], AUSTIN[0] + step / 500, AUSTIN[1])
    before_help = await help_text_read(line, parent, lang)
    assert not any(t(line, "common.edited_ignored", lang)[:20] in x for x in before_help)
    assert not any(t(line, "parent.media", lang)[:30] in x for x in before_help)
