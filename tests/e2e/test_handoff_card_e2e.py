"""The parent's own handoff card over the fake Bot API: seen, edited, sent, and received.

The parent sees what the peer will read before anyone is asked to come, changes it (a
line in their own words, their region taken out), and the specialist reads exactly that
card: not the story the parent told the bot, not the resources the bot shared, not the
region they took out. A restart between the edit and the send loses nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from conftest import Line, Person
from sqlalchemy import select

from bot.app.jobs import purge
from bot.app.runtime import LineRuntime
from core.storage.models import Conversation, Parent

STORY = "CPS came to my house today and opened an investigation, I am so scared"
LINE = "Home visit on Friday. I want to know what they can and can't do."


def t(line: Line, key: str, lang: str = "en", **params: object) -> str:
    return line.runtime.content.current.text(key, lang, **params)


async def on_duty(line: Line, uid: int, name: str, lang: str = "en") -> Person:
    peer = await line.specialist(uid, name, languages=(lang,))
    peer.says("/onduty")
    await peer.reads()
    return peer


async def conv_of(line: Line, tg_id: int) -> Conversation | None:
    async with line.runtime.db.read() as s:
        p = (await s.scalars(select(Parent).where(Parent.tg_user_id == tg_id))).one()
        return (await s.scalars(select(Conversation).where(Conversation.parent_id == p.id)
                                .order_by(Conversation.id.desc()))).first()


async def restart(line: Line) -> None:
    await line.runtime.stop()
    line.runtime = LineRuntime(line.runtime.settings, db=line.runtime.db, serve_web=False)
    await line.runtime.start()


async def test_the_card_edited_is_what_the_specialist_receives(line: Line) -> None:
    peer = await on_duty(line, 7601, "Rosa")
    parent = line.parent(9601)
    parent.says("/start")
    parent.says(STORY)
    await parent.reads(t(line, "parent.ask_help")[:20])
    await parent.press(t(line, "parent.buttons.resources"))
    await parent.reads(t(line, "parent.region.ask")[:25])
    parent.says("78701")
    await parent.reads(t(line, "parent.resources.after")[:25])
    await parent.press(t(line, "parent.buttons.person"))

    card = await parent.reads(t(line, "parent.card.show")[:30])
    assert "About: A CPS investigation" in card["text"] and "78701" in card["text"]
    assert STORY not in card["text"]
    assert await conv_of(line, 9601) is None  # nobody is asked to come before it is sent
    assert not any("would like to talk" in x for x in peer.texts())

    parent.says(LINE)
    await parent.reads(f"In your words: {LINE}")
    await parent.press(t(line, "parent.buttons.card_no_region"))
    edited = await parent.reads(t(line, "parent.card.show")[:30])
    assert "78701" not in edited["text"] and LINE in edited["text"]

    await restart(line)  # the card on the parent's screen is still the one that is sent
    await parent.press(t(line, "parent.buttons.card_send"))
    await parent.reads("number 1 in line")

    await peer.reads("would like to talk")
    await peer.press("Take")
    summary = (await peer.reads("sent you their card"))["text"]
    assert f"In their words: {LINE}" in summary
    assert "About: A CPS investigation" in summary
    assert f"Would like: {t(line, 'staff.card_anyone')}" in summary
    for left_out in ("78701", "Travis", STORY, "Resources already shared"):
        assert left_out not in summary, left_out
    await parent.reads("Rosa, a peer specialist, has joined")
    conv = await conv_of(line, 9601)
    assert conv is not None and conv.from_card and not conv.region_shared
    assert conv.card_line == LINE and conv.resources_shared == []


async def test_a_card_sent_with_talk_in_spanish_reaches_a_spanish_speaking_peer(
        line: Line) -> None:
    peer = await on_duty(line, 7602, "Lucía", lang="es")
    parent = line.parent(9602, lang="es")
    parent.says("/talk mi hija no quiere ir a la escuela desde octubre")
    card = await parent.reads(t(line, "parent.card.show", "es")[:30])
    assert "En tus palabras: mi hija no quiere ir a la escuela" in card["text"]
    assert "Idioma: Español" in card["text"]
    parent.says("/talk")  # again: send it as it is
    await parent.reads("el lugar 1 en la fila")
    await peer.reads()
    await peer.press("Tomar")
    summary = (await peer.reads("te mandó su tarjeta"))["text"]
    assert "En sus palabras: mi hija no quiere ir a la escuela desde octubre" in summary
    assert f"Prefiere: {t(line, 'staff.card_anyone', 'es')}" in summary


async def test_a_card_never_sent_is_wiped_after_a_day_and_a_sent_line_with_retention(
        line: Line) -> None:
    parent = line.parent(9603)
    parent.says("/talk bedtime is a battle every night, we are all worn out")
    await parent.reads(t(line, "parent.card.show")[:30])
    async with line.runtime.db.read() as s:
        p = (await s.scalars(select(Parent).where(Parent.tg_user_id == 9603))).one()
        assert p.flow_state == "reviewing_card" and "bedtime" in p.flow_data["card"]["line"]
    counts = await purge(line.runtime.db, datetime.now(UTC) + timedelta(hours=2), 30)
    assert counts["card_drafts"] == 0  # an hour or two later it is still theirs to send
    counts = await purge(line.runtime.db, datetime.now(UTC) + timedelta(days=1, hours=1), 30)
    assert counts["card_drafts"] == 1
    async with line.runtime.db.read() as s:
        p = (await s.scalars(select(Parent).where(Parent.tg_user_id == 9603))).one()
        assert "card" not in p.flow_data and p.flow_state == "listening"
    parent.says("/talk")  # a new card, with nothing of the old line
    card = await parent.reads(t(line, "parent.card.show")[:30])
    assert "bedtime" not in card["text"]
    await parent.press(t(line, "parent.buttons.card_send"))
    await parent.reads(t(line, "handoff.leave_message")[:30])  # nobody on duty
    parent.says("/stop")
    await parent.reads(t(line, "handoff.left_queue")[:30])
    parent.says("/talk one line for the peer")
    await parent.reads(t(line, "parent.card.show")[:30])
    parent.says("/talk")
    await parent.reads(t(line, "handoff.leave_message")[:30])
    parent.says("/stop")
    await parent.reads(t(line, "handoff.left_queue")[:30])
    await purge(line.runtime.db, datetime.now(UTC) + timedelta(days=31), 30)
    conv = await conv_of(line, 9603)
    assert conv is not None and conv.status == "ended" and conv.card_line is None


async def test_a_crisis_on_the_card_is_queued_at_once_and_the_draft_is_gone(
        line: Line) -> None:
    parent = line.parent(9604)
    parent.says("/talk my son will not go to school")
    await parent.reads(t(line, "parent.card.show")[:30])
    parent.says("i can't do this anymore. i took all my pills")
    await parent.reads("911")
    conv = await conv_of(line, 9604)
    assert conv is not None and conv.crisis and not conv.from_card
    async with line.runtime.db.read() as s:
        p = (await s.scalars(select(Parent).where(Parent.tg_user_id == 9604))).one()
        assert "card" not in p.flow_data and p.flow_state == "handed_off"
