"""Nobody waits unseen (issue #14), over real HTTP against the fake Bot API.

A silent specialist is nudged, then their parent goes back to the front of the queue and
is told; a push-mode offer nobody takes moves on; a crisis goes to three specialists at
once and is taken exactly once. Time is moved by setting a pending job's ``due_at`` back
in the database (the real job runner then delivers it), so each step waits for a real
job and a test whose job never fires fails on its timeout.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import PG_URL, Line, Person, line_settings
from sqlalchemy import select, update

from bot.app.runtime import LineRuntime
from core.storage.db import Database
from core.storage.models import Conversation, Job, Parent
from fake_telegram import FakeTelegram

SUICIDE = "i cant do this anymore. everyone would be better off without me"


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def push_line(fake_tg: FakeTelegram, tmp_path: Path, backend: str) -> AsyncIterator[Line]:
    """The line in push mode (offers to the best fit, one at a time)."""
    db: Database | None = None
    if backend == "postgres":
        if not PG_URL:
            pytest.skip("PARENTLINE_TEST_POSTGRES_URL is not set (.ci/run sets it)")
        db = Database(PG_URL, schema=f"e2e_{uuid.uuid4().hex[:10]}")
    settings = line_settings(fake_tg, tmp_path / "line.db", assignment_mode="push")
    runtime = LineRuntime(settings, db=db, serve_web=False)
    await runtime.start()
    running = Line(fake_tg, runtime)
    try:
        yield running
    finally:
        await running.runtime.stop()
        if db is not None:
            await db.drop_schema()
            await db.dispose()


def t(line: Line, key: str, lang: str = "en", **kw: Any) -> str:
    return line.runtime.content.current.text(key, lang, **kw)


async def duty(line: Line, uid: int, name: str, reads: str = "on duty", **kw: Any) -> Person:
    peer = await line.specialist(uid, name, **kw)
    peer.says("/onduty")
    await peer.reads(reads)
    return peer


async def conv_of(line: Line, tg_id: int) -> Conversation:
    async with line.runtime.db.read() as s:
        p = (await s.scalars(select(Parent).where(Parent.tg_user_id == tg_id))).one()
        conv = (await s.scalars(select(Conversation).where(Conversation.parent_id == p.id)
                                .order_by(Conversation.id.desc()))).first()
        assert conv is not None
        return conv


async def hurry(line: Line, kind: str) -> Job:
    """Make the one pending ``kind`` job due now; the running job runner picks it up."""
    async with line.runtime.db.tx() as s:
        jobs = list(await s.scalars(select(Job).where(Job.kind == kind, Job.done_at.is_(None))))
        assert len(jobs) == 1, f"expected one pending {kind} job, found {len(jobs)}"
        await s.execute(update(Job).where(Job.id == jobs[0].id)
                        .values(due_at=datetime.now(UTC) - timedelta(seconds=1)))
        return jobs[0]


async def test_a_silent_specialist_is_nudged_then_the_parent_is_requeued_and_told(
    line: Line,
) -> None:
    ana = await duty(line, 7501, "Ana")
    ben = await duty(line, 7502, "Ben")
    cora = await duty(line, 7503, "Cora", role="coordinator")
    parent = line.parent(951)
    await parent.talks()
    await parent.reads("in line")
    await ana.reads("would like to talk")
    await ana.press("Take")
    await parent.reads("Ana, a peer specialist, has joined")
    parent.says("hello? is anyone there?")
    await ana.fake.wait_until(lambda: any(m["method"] == "copyMessage"
                                          for m in line.fake.messages_to(7501)), 10)

    job = await hurry(line, "h.answer")
    assert job.payload["staff"] == 7501 and job.payload["stage"] == 1
    nudge = await ana.reads("for your reply")
    assert "Parent " in nudge["text"] and "anyone there" not in nudge["text"]
    assert (await conv_of(line, 951)).status == "active"

    await hurry(line, "h.answer")  # stage 2, ten minutes after the nudge
    told = await parent.reads(t(line, "handoff.peer_no_answer", position=1, minutes="?")[:60])
    assert "front of the line" in told["text"]
    await ana.reads("went back to the front of the queue")
    alert = await cora.reads("without an answer from Ana")
    assert "anyone there" not in alert["text"]
    conv = await conv_of(line, 951)
    assert (conv.status, conv.specialist_id, conv.front_of_queue) == ("queued", None, True)

    await ben.reads("would like to talk")
    await ben.press("Take")
    await parent.reads("Ben, a peer specialist, has joined")
    assert (await conv_of(line, 951)).specialist_id == 7502
    assert not any("would like to talk" in m["text"] for m in
                   line.fake.messages_to(7501)[-3:] if m["text"])


async def test_a_spanish_parent_hears_it_in_spanish(line: Line) -> None:
    rosa = await duty(line, 7511, "Rosa", "de turno", languages=("es", "en"))
    parent = line.parent(952, lang="es")
    await parent.talks()
    await parent.reads("lugar 1")
    await rosa.reads("quiere hablar")
    await rosa.press("Tomar")
    await parent.reads("Rosa, una persona de apoyo, ya está contigo")
    await hurry(line, "h.answer")
    await rosa.reads("esperando tu respuesta")
    await hurry(line, "h.answer")
    await parent.reads(t(line, "handoff.peer_no_answer", "es", position=1, minutes="?")[:60])
    assert (await conv_of(line, 952)).status == "queued"


def offers(line: Line, ids: tuple[int, ...]) -> list[int]:
    return [uid for uid in ids for m in line.fake.messages_to(uid)
            if "best fit" in (m["text"] or "")]


async def test_a_push_offer_expires_and_moves_on(push_line: Line) -> None:
    line = push_line
    names = {7601: "Ana", 7602: "Ben", 7603: "Cy"}
    ids = tuple(names)
    peers = {uid: await duty(line, uid, name) for uid, name in names.items()}
    parent = line.parent(961)
    await parent.talks()
    await parent.reads("in line")
    await line.fake.wait_until(lambda: len(offers(line, ids)) == 1, 10)
    [first] = offers(line, ids)
    assert (await conv_of(line, 961)).offered_staff_id == first

    job = await hurry(line, "h.offer")
    assert job.payload["staff"] == first
    await peers[first].reads("wasn't taken in 3 minutes")
    await line.fake.wait_until(lambda: len(offers(line, ids)) == 2, 10)
    second = offers(line, ids)[1]
    assert second != first
    assert (await conv_of(line, 961)).offered_staff_id == second

    await peers[second].press("Take")
    await parent.reads("a peer specialist, has joined")
    conv = await conv_of(line, 961)
    assert (conv.status, conv.specialist_id, conv.offered_staff_id) == ("active", second, None)
    async with line.runtime.db.read() as s:  # the taken offer has nothing left to expire
        left = list(await s.scalars(select(Job).where(Job.kind == "h.offer",
                                                      Job.done_at.is_(None))))
    assert left == []


async def test_a_crisis_goes_to_three_specialists_and_is_taken_exactly_once(
    push_line: Line,
) -> None:
    line = push_line
    names = {7701: "Ana", 7702: "Ben", 7703: "Cy"}
    ids = tuple(names)
    peers = [await duty(line, uid, name) for uid, name in names.items()]
    parent = line.parent(971)
    parent.says(SUICIDE)
    alerts = {p.id: await line.fake.wait_for_message(
        p.id, lambda m: "CRISIS" in (m["text"] or ""), timeout=10) for p in peers}
    assert not offers(line, ids)  # everyone at once, not an offer to one person
    await asyncio.sleep(0.3)  # the sender records each delivered alert's message id
    for p in peers:  # all three press Take at the same moment
        alert = alerts[p.id]
        data = alert["buttons"][0][0]["callback_data"]
        line.fake.user_presses(p.id, alert["message_id"], data)

    await parent.reads("a peer specialist, has joined")
    await asyncio.sleep(0.5)  # let every press be answered
    conv = await conv_of(line, 971)
    assert conv.status == "active" and conv.specialist_id in ids
    winner = conv.specialist_id
    joined = [x for x in parent.texts() if "a peer specialist, has joined" in x]
    assert len(joined) == 1
    for p in peers:
        if p.id == winner:
            await p.saw("Language:")  # the summary
            continue
        name = names[winner]

        def marked(p: Person = p, alert: dict = alerts[p.id], name: str = name) -> bool:
            msg = next(m for m in line.fake.messages_to(p.id)
                       if m["message_id"] == alert["message_id"])
            texts = "\n".join(p.texts())
            return (f"Taken by {name}" in (msg["text"] or "") and not msg["buttons"]) or (
                f"{name} has taken the crisis conversation" in texts)

        await line.fake.wait_until(marked, 10)
        assert not any("Language:" in x for x in p.texts())  # no summary: not theirs
