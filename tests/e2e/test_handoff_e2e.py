"""The human handoff over real HTTP, with several parents and specialists.

talk → alert → take → summary → relay both ways (a photo too) → consult → transfer →
end → survey; going off duty; a Spanish-speaking parent with no Spanish speaker on duty;
caps; replies routed among several conversations; after hours; restarts mid-stage.
"""

from __future__ import annotations

import asyncio

import pytest
from conftest import Line, Person
from sqlalchemy import select

from bot.app.runtime import LineRuntime
from core.storage.models import Conversation, Parent


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """Every test here runs on SQLite and on PostgreSQL (issue #7)."""
    return str(request.param)



def t(line: Line, key: str, lang: str = "en") -> str:
    return line.runtime.content.current.text(key, lang)


def copies(person: Person) -> list[dict]:
    return [m for m in person.fake.messages_to(person.id) if m["method"] == "copyMessage"]


async def conv_of(line: Line, tg_id: int) -> Conversation:
    async with line.runtime.db.read() as s:
        p = (await s.scalars(select(Parent).where(Parent.tg_user_id == tg_id))).one()
        return (await s.scalars(select(Conversation).where(Conversation.parent_id == p.id)
                                .order_by(Conversation.id.desc()))).first()


async def duty(line: Line, uid: int, name: str, **kw: object) -> Person:
    peer = await line.specialist(uid, name, **kw)  # type: ignore[arg-type]
    peer.says("/onduty")
    await peer.reads("on duty")
    return peer


async def test_full_path_with_photo_consult_transfer_end_and_survey(line: Line) -> None:
    ana = await duty(line, 7101, "Ana")
    ben = await duty(line, 7102, "Ben")
    coord = await duty(line, 7103, "Cora", role="coordinator")
    parent = line.parent(901)
    parent.says("/start")
    parent.says("My son was suspended again and I am worn out from all the school meetings")
    await parent.reads(t(line, "parent.ask_help")[:20])
    await parent.press(t(line, "parent.buttons.person"))
    await parent.press(t(line, "parent.buttons.card_send"))
    await parent.reads("number 1 in line")

    alert = await ana.reads("would like to talk")
    assert "Parent " in alert["text"] and "suspended" not in alert["text"]
    await ana.press("Take")
    summary = await ana.reads("Language:")
    assert "sent you their card" in summary["text"]
    assert "suspended" not in summary["text"]  # only the card: not the story told the bot
    await parent.reads("Ana, a peer specialist, has joined")

    parent.says("thank you for picking up")
    await ana.fake.wait_until(lambda: any("picking up" in (m["text"] or "")
                                          for m in copies(ana)), 10)
    ana.says("I'm here. My son went through suspensions too.")
    await parent.reads("My son went through suspensions too")

    parent.sends_media("photo", caption="the letter from school")
    await parent.reads(t(line, "handoff.media_notice")[:30])
    await ana.fake.wait_until(lambda: any(m["kind"] == "photo" for m in copies(ana)), 10)

    ana.says("/consult")
    await coord.reads("second opinion")
    await coord.press("I'll help")
    coord.says("Ask what the school offered first.")
    await ana.reads("Ask what the school offered first")
    assert not any("school offered" in x for x in parent.texts())  # never to the parent

    ana.says("/transfer needs someone who knows IEPs")
    await ana.reads("Who should take")
    await ana.press("Ben")
    await ben.reads("handed this conversation to you")
    await parent.reads("another peer specialist, is with you now")
    await ben.saw("knows IEPs")  # the note travels with the summary
    assert (await conv_of(line, 901)).specialist_id == 7102

    ben.says("/end")
    await parent.reads(t(line, "handoff.ended_thanks")[:30])
    await parent.reads(t(line, "handoff.survey_heard")[:30])
    await parent.press("5")
    await parent.reads(t(line, "handoff.survey_helpful")[:20])
    await parent.press("4")
    await parent.reads(t(line, "handoff.survey_thanks")[:20])
    await ben.reads(t(line, "staff.ask_category")[:20])
    conv = await conv_of(line, 901)
    assert (conv.status, conv.survey_heard, conv.survey_helpful) == ("ended", 5, 4)

    # After the conversation the parent's own flow is back, quietly.
    parent.says("thanks again")
    await parent.fake.wait_until(lambda: len(parent.texts()) > 0, 10)


async def test_going_off_duty_hands_every_conversation_on(line: Line) -> None:
    ana = await duty(line, 7201, "Ana")
    parents = [line.parent(pid) for pid in (911, 912)]
    for p in parents:
        await p.talks()
        await p.reads("in line")
    ana.says("/next")
    ana.says("/next")
    await line.fake.wait_until(lambda: all(
        any("has joined" in x for x in p.texts()) for p in parents), 10)
    ben = await duty(line, 7202, "Ben", max_active=1)
    ana.says("/offduty")
    await ana.reads("You're off duty")
    convs = [await conv_of(line, p.id) for p in parents]
    statuses = sorted((c.status, c.specialist_id) for c in convs)
    assert statuses == [("active", 7202), ("queued", None)]
    queued = next(c for c in convs if c.status == "queued")
    assert queued.front_of_queue
    await ben.reads("handed this conversation to you")


async def test_spanish_parent_with_no_spanish_speaker_chooses(line: Line) -> None:
    await duty(line, 7301, "Ann", languages=("en",))
    parent = line.parent(921, lang="es")
    await parent.talks()
    await parent.reads(t(line, "handoff.no_language_peer", "es")[:30])
    await parent.press(t(line, "handoff.btn_go_ahead", "es"))
    await parent.reads(t(line, "handoff.any_language_ok", "es")[:20])
    assert (await conv_of(line, 921)).any_language_ok


async def test_a_specialist_at_their_cap_is_told_why(line: Line) -> None:
    ana = await duty(line, 7401, "Ana", max_active=1)
    for pid in (931, 932):  # one after the other: the queue is longest-waiting first
        await line.parent(pid).talks()
        await line.fake.wait_until(lambda pid=pid: len(line.fake.messages_to(pid)) > 0, 10)
    ana.says("/next")
    await line.fake.wait_until(lambda: any("has joined" in x
                                           for x in line.fake.texts_to(931)), 10)
    ana.says("/next")
    await ana.reads("your limit")
    assert (await conv_of(line, 932)).status == "queued"


async def test_replies_are_routed_and_ambiguous_messages_held(line: Line) -> None:
    ana = await duty(line, 7501, "Ana")
    p1, p2 = line.parent(941), line.parent(942)
    for p in (p1, p2):
        await p.talks()
        await p.reads("in line")
        ana.says("/next")
        await p.reads("has joined")
    p1.says("question from the first parent")
    p2.says("question from the second parent")
    await ana.fake.wait_until(lambda: len(copies(ana)) >= 2, 10)
    await asyncio.sleep(0.3)  # the relay link is recorded when Telegram answers
    first = next(m for m in copies(ana) if "first parent" in (m["text"] or ""))
    ana.says("I am with you, first parent", reply_to=first["message_id"])
    await p1.reads("I am with you, first parent")
    ana.says("who gets this?")
    await ana.reads("Which parent is this message for")
    assert not any("who gets this" in x for x in p1.texts() + p2.texts())
    await ana.press(f"Parent {(await _pseudonym(line, 942))}")
    await p2.reads("who gets this?")


async def _pseudonym(line: Line, tg_id: int) -> str:
    async with line.runtime.db.read() as s:
        return (await s.scalars(select(Parent.pseudonym).where(Parent.tg_user_id == tg_id))).one()


async def test_after_hours_message_is_kept_for_the_next_shift(line: Line) -> None:
    parent = line.parent(951)
    await parent.talks()
    await parent.reads(t(line, "handoff.leave_message")[:30])
    parent.says("Please call me back about my daughter's court date next week")
    await parent.fake.wait_until(lambda: len(parent.texts()) >= 2, 10)
    ana = await line.specialist(7601, "Ana")
    ana.says("/onduty")
    waiting = await ana.reads("Waiting now")
    assert "Parent " in waiting["text"] and "court date" not in waiting["text"]
    ana.says("/next")
    summary = await ana.reads("Language:")
    assert "court date" in summary["text"]  # the peer sees what they left
    await parent.reads("just picked up the message you left")


async def test_restart_in_the_middle_of_each_stage(line: Line) -> None:
    async def restart() -> None:
        await line.runtime.stop()
        # A new process on the same database.
        line.runtime = LineRuntime(line.runtime.settings, db=line.runtime.db, serve_web=False)
        await line.runtime.start()

    ana = await duty(line, 7701, "Ana")
    parent = line.parent(961)
    await parent.talks()
    await parent.reads("in line")
    await restart()  # queued
    ana.says("/next")
    await parent.reads("has joined")
    await restart()  # active relay
    parent.says("still there?")
    await ana.fake.wait_until(lambda: any("still there" in (m["text"] or "")
                                          for m in copies(ana)), 10)
    p2 = line.parent(962)
    await p2.talks()
    await p2.reads("in line")
    ana.says("/next")
    await p2.reads("has joined")
    ana.says("a message for someone")  # two active: held
    await ana.reads("Which parent")
    await restart()  # a held message survives
    await ana.press(f"Parent {(await _pseudonym(line, 961))}")
    await parent.reads("a message for someone")


async def test_forget_right_after_a_message_still_relays_that_message(line: Line) -> None:
    """The parent's last words and their /forget arrive together (on SQLite, in one batch):
    the specialist still gets the words, as if each update had been committed alone, and
    the parent is forgotten."""
    ana = await duty(line, 7801, "Ana")
    parent = line.parent(981)
    await parent.talks()
    await parent.reads("in line")
    await ana.reads("would like to talk")
    await ana.press("Take")
    await parent.reads("Ana, a peer specialist, has joined")
    parent.says("/forget")
    await parent.reads(t(line, "parent.forget.confirm")[:30])

    await line.runtime.stop()
    parent.says("please remember my son's school is Lincoln")
    await parent.press(t(line, "parent.buttons.forget_yes"))
    line.runtime = LineRuntime(line.runtime.settings, db=line.runtime.db, serve_web=False)
    await line.runtime.start()

    await parent.reads(t(line, "privacy.forget_limits")[:30])
    await ana.fake.wait_until(lambda: any("Lincoln" in (m["text"] or "")
                                          for m in copies(ana)), 10)
    async with line.runtime.db.read() as s:
        assert await s.scalar(select(Parent).where(Parent.tg_user_id == 981)) is None
