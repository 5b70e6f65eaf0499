"""Nobody waits unseen (issue #14): a silent specialist is nudged, then the parent goes back
to the front of the queue; push offers expire and move on; a crisis goes to everyone on
duty and is taken exactly once. Transcripts over the harness of ``test_handoff``."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from test_handoff import (  # the harness and its fixtures
    ANA,
    BEN,
    COORD,
    OPEN,
    P1,
    P3,
    ROSA,
    STAFF_CHAT,
    Line,
    cmd,
    line,
    on_duty,
    press,
    t,
    text,
    texts_to,
)

from core.config import Settings
from core.storage.models import Job
from flows.events import Action

__all__ = ["line"]  # the fixture, used by name


@pytest.fixture
def settings() -> Settings:
    return Settings(secret_key="test-secret", staff_chat_id=STAFF_CHAT, telegram_token="x")


def at(minutes: float) -> datetime:
    return OPEN + timedelta(minutes=minutes)


async def pending(line: Line, kind: str) -> list[Job]:
    async with line.db.read() as s:
        return list(await s.scalars(select(Job).where(Job.kind == kind, Job.done_at.is_(None))))


def said(actions: list[Action], chat: int) -> str:
    return "\n".join(texts_to(actions, chat))


async def test_silent_specialist_is_nudged_then_the_parent_goes_back_to_the_front(
    line: Line,
) -> None:
    await on_duty(line, ANA, BEN, COORD)
    await line.talk(1)
    await line.staff(ANA, cmd(ANA, "next"))
    assert (await line.conv(1)).specialist_id == ANA

    line.now = at(2)  # the parent writes; the clock keeps running from the join
    await line.parent(1, text(P1, "are you there?"))
    assert len(await pending(line, "h.answer")) == 1

    line.now = at(4.9)
    assert not await line.job("h.answer")
    line.now = at(5)
    acts = await line.job("h.answer")
    nudge = t("staff.answer_nudge", who="Parent K7Q2", minutes=5, requeue=10)
    assert texts_to(acts, ANA) == [nudge]
    assert not texts_to(acts, P1) and not texts_to(acts, BEN)
    assert (await line.conv(1)).status == "active"

    line.now = at(14.9)
    assert not await line.job("h.answer")
    line.now = at(15)
    acts = await line.job("h.answer")
    conv = await line.conv(1)
    assert (conv.status, conv.specialist_id, conv.front_of_queue) == ("queued", None, True)
    parent_said = said(acts, P1)
    assert t("handoff.peer_no_answer", position=1, minutes="?").split(":")[0] in parent_said
    assert t("staff.answer_requeued", who="Parent K7Q2") in texts_to(acts, ANA)
    assert "would like to talk" not in said(acts, ANA)  # no alert to the silent one
    press(acts, BEN, "h.take")  # a colleague can take them at once
    assert t("staff.specialist_silent", who="Parent K7Q2", minutes=15, name="Ana") in texts_to(
        acts, COORD
    )
    assert not await pending(line, "h.answer")

    acts = await line.staff(BEN, press(acts, BEN, "h.take"))
    assert t("handoff.peer_joined", name="Ben") in texts_to(acts, P1)
    assert (await line.conv(1)).specialist_id == BEN
    # Ben's clock starts now, not at Ana's time
    [job] = await pending(line, "h.answer")
    assert job.payload["staff"] == BEN and job.due_at == at(20)


async def test_a_reply_stops_the_clock_and_a_new_message_starts_it(line: Line) -> None:
    await on_duty(line, ANA, BEN)
    await line.talk(1)
    await line.staff(ANA, cmd(ANA, "next"))
    await line.staff(ANA, text(ANA, "Hi, I'm Ana. I'm here."))
    assert not await pending(line, "h.answer")
    line.now = at(30)
    assert not await line.job("h.answer")

    line.now = at(31)
    await line.parent(1, text(P1, "thank you"))
    line.now = at(33)
    await line.parent(1, text(P1, "it's been a long night"))
    [job] = await pending(line, "h.answer")
    assert job.due_at == at(36)  # from the first unanswered message
    line.now = at(34)
    await line.staff(ANA, text(ANA, "Tell me about it."))
    line.now = at(60)
    assert not await line.job("h.answer")
    assert (await line.conv(1)).specialist_id == ANA


async def test_the_parent_hears_it_in_their_language(line: Line) -> None:
    await on_duty(line, ROSA, BEN)
    await line.talk(3)  # a Spanish-speaking parent; Rosa speaks Spanish
    await line.staff(ROSA, cmd(ROSA, "next"))
    assert (await line.conv(3)).specialist_id == ROSA
    line.now = at(5)
    acts = await line.job("h.answer")
    assert texts_to(acts, ROSA) == [
        t("staff.answer_nudge", "es", who="Familia R2D4", minutes=5, requeue=10)
    ]
    line.now = at(15)
    acts = await line.job("h.answer")
    head = t("handoff.peer_no_answer", "es", position=1, minutes="?").split(":")[0]
    assert head.startswith("Perdona") and head in said(acts, P3)
    assert t("staff.answer_requeued", "es", who="Familia R2D4") in texts_to(acts, ROSA)


async def test_a_silent_specialist_in_a_crisis_alerts_everyone_else(line: Line) -> None:
    await on_duty(line, ANA, BEN, ROSA)
    acts = await line.crisis(1)
    await line.staff(ANA, press(acts, ANA, "h.take"))
    assert (await line.conv(1)).specialist_id == ANA
    line.now = at(5)
    assert texts_to(await line.job("h.answer"), ANA)  # the nudge
    line.now = at(15)
    acts = await line.job("h.answer")
    assert "CRISIS" in said(acts, BEN) and "CRISIS" in said(acts, ROSA)
    assert "CRISIS" not in said(acts, ANA)
    assert (await line.conv(1)).priority == "crisis"


# --- push mode -------------------------------------------------------------------------------


@pytest.fixture
def push_line(line: Line) -> Line:
    line.settings = line.settings.model_copy(update={"assignment_mode": "push"})
    return line


def lang(chat: int) -> str:
    return "es" if chat == ROSA else "en"  # Rosa's first language is Spanish


def expired(chat: int) -> str:
    who = "Familia K7Q2" if chat == ROSA else "Parent K7Q2"
    return t("staff.offer_expired", lang(chat), who=who, minutes=3)


def offered_to(actions: list[Action]) -> list[int]:
    return sorted(
        {chat for chat in (ANA, BEN, ROSA) for x in texts_to(actions, chat)
         if "best fit" in x or "mejor encaja" in x}  # Rosa reads Spanish
    )


async def test_a_push_offer_expires_and_moves_on_then_everyone_is_alerted(
    push_line: Line,
) -> None:
    line = push_line
    await on_duty(line, ANA, BEN, ROSA)
    acts = await line.talk(1)
    [first] = offered_to(acts)
    line.now = at(2.9)
    assert not await line.job("h.offer")

    line.now = at(3)
    acts = await line.job("h.offer")
    assert texts_to(acts, first) == [expired(first)]
    [second] = offered_to(acts)
    assert second != first and (await line.conv(1)).offered_staff_id == second

    line.now = at(6)
    acts = await line.job("h.offer")
    assert texts_to(acts, second) == [expired(second)]
    [third] = offered_to(acts)
    assert third not in (first, second)

    # Everyone had their turn: all of them are alerted, and the coordinators hear of it.
    line.now = at(9)
    acts = await line.job("h.offer")
    for chat in (ANA, BEN, ROSA):
        press(acts, chat, "h.take")
    assert t("staff.offers_unanswered", who="Parent K7Q2") in texts_to(acts, COORD)
    assert (await line.conv(1)).offered_staff_id is None
    assert not await pending(line, "h.offer")

    acts = await line.staff(first, press(acts, first, "h.take"))
    assert (await line.conv(1)).specialist_id == first


async def test_a_taken_offer_does_not_expire(push_line: Line) -> None:
    line = push_line
    await on_duty(line, ANA, BEN)
    acts = await line.talk(1)
    [first] = offered_to(acts)
    await line.staff(first, press(acts, first, "h.take"))
    line.now = at(10)
    assert not await line.job("h.offer")
    assert (await line.conv(1)).specialist_id == first


async def test_a_declined_offer_gets_a_fresh_expiry(push_line: Line) -> None:
    line = push_line
    await on_duty(line, ANA, BEN)
    acts = await line.talk(1)
    [first] = offered_to(acts)
    line.now = at(2)
    acts = await line.staff(first, press(acts, first, "h.decline"))
    [second] = offered_to(acts)
    [job] = await pending(line, "h.offer")
    assert job.payload["staff"] == second and job.due_at == at(5)


async def test_a_crisis_is_offered_to_everyone_at_once_and_taken_exactly_once(
    push_line: Line,
) -> None:
    line = push_line
    await on_duty(line, ANA, BEN, ROSA)
    acts = await line.crisis(1)
    assert not offered_to(acts)  # never an offer to one person
    presses = {chat: press(acts, chat, "h.take") for chat in (ANA, BEN, ROSA)}
    assert not await pending(line, "h.offer")

    won = await line.staff(BEN, presses[BEN])
    assert (await line.conv(1)).specialist_id == BEN
    assert t("staff.crisis_taken", name="Ben", who="Parent K7Q2") in texts_to(won, ANA)
    assert t("staff.crisis_taken", "es", name="Ben", who="Familia K7Q2") in texts_to(won, ROSA)

    for other in (ANA, ROSA):
        late = await line.staff(other, presses[other])
        assert t("staff.already_taken", lang(other)) in texts_to(late, other)
    assert (await line.conv(1)).specialist_id == BEN


async def test_the_nudge_lets_the_specialist_pass_the_parent_on_at_once(line: Line) -> None:
    await on_duty(line, ANA, BEN)
    await line.talk(1)
    await line.staff(ANA, cmd(ANA, "next"))
    line.now = at(5)
    nudge = await line.job("h.answer")
    line.now = at(6)
    acts = await line.staff(ANA, press(nudge, ANA, "h.decline", "Pass to a colleague"))
    conv = await line.conv(1)
    assert (conv.status, conv.front_of_queue) == ("queued", True)
    assert any(x.startswith(t("handoff.rematch", position=1, minutes="?")[:30])
               for x in texts_to(acts, P1))
    press(acts, BEN, "h.take")
    line.now = at(15)  # the requeue step has nothing left to do
    assert not texts_to(await line.job("h.answer"), P1)


async def test_with_one_specialist_an_expired_offer_becomes_an_alert(push_line: Line) -> None:
    line = push_line
    await on_duty(line, ANA)
    acts = await line.talk(1)
    assert offered_to(acts) == [ANA]
    line.now = at(3)
    acts = await line.job("h.offer")
    assert expired(ANA) not in texts_to(acts, ANA)  # no colleague to "go to": not said
    assert any("would like to talk" in x for x in texts_to(acts, ANA))
    press(acts, ANA, "h.take")
    assert t("staff.offers_unanswered", who="Parent K7Q2") in texts_to(acts, COORD)
    assert not await pending(line, "h.offer")
