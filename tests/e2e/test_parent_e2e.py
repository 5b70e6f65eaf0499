"""A parent's whole conversation over real HTTP, in English and Spanish, and what survives.

These go through python-telegram-bot against the fake Bot API, the durable inbox, the
flow, the outbox and the sender: exactly what runs in production.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import Line
from sqlalchemy import func, select

from bot.app.jobs import purge
from bot.app.runtime import LineRuntime
from core.storage.models import Conversation, DailyStat, InboxRow, Job, Parent


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """Every test here runs on SQLite and on PostgreSQL (issue #7)."""
    return str(request.param)


def t(line: Line, key: str, lang: str = "en", **kw: object) -> str:
    return line.runtime.content.current.text(key, lang, **kw)


async def _walk(line: Line, user_id: int, lang: str, place: str,
                county: str | None = None) -> None:
    parent = line.parent(user_id, lang=lang)
    parent.says("/start")
    await parent.reads(t(line, "parent.welcome", lang)[:40])
    await parent.saw(t(line, "privacy.short", lang)[:40])
    parent.says("It has been a really long week and I am worn out at home")
    await parent.reads(t(line, "parent.ask_help", lang)[:30])
    await parent.press(t(line, "parent.buttons.ideas", lang))
    await parent.reads(t(line, "parent.topic.choose", lang)[:30])
    content = line.runtime.content.current
    topic = next(tp for tp in content.topics if tp.id == "tantrums")
    await parent.press(topic.title[lang])
    await parent.reads(topic.strength_question[lang][:30])
    parent.says("I stay calm and I make him laugh")
    await parent.reads(t(line, "parent.strengths.thanks", lang)[:30])
    await parent.reads(topic.next_steps[lang][0][:30])
    await parent.press("1")
    await parent.reads(t(line, "parent.checkin.offer", lang)[:30])
    await parent.press(t(line, "parent.buttons.checkin_1", lang))
    await parent.reads(t(line, "parent.resources.offer", lang)[:30])
    await parent.press(t(line, "parent.buttons.yes_please", lang))
    await parent.reads(t(line, "parent.region.ask", lang)[:30])
    parent.says(place)
    if county is not None:
        await parent.reads(t(line, "parent.region.county_ask", lang)[:20])
        parent.says(county)
    await parent.reads(t(line, "parent.resources.after", lang)[:30])
    await parent.press(t(line, "parent.buttons.person", lang))
    await parent.reads(t(line, "parent.card.show", lang)[:30])
    await parent.press(t(line, "parent.buttons.card_send", lang))
    # No one is on duty in this test: the handoff says so honestly and keeps the request.
    await parent.reads(t(line, "handoff.leave_message", lang)[:30])
    async with line.runtime.db.read() as s:
        p = (await s.scalars(select(Parent).where(Parent.tg_user_id == user_id))).one()
        assert p.lang == lang and p.flow_state == "handed_off"
        conv = (await s.scalars(select(Conversation).where(Conversation.parent_id == p.id))).one()
        assert conv.status == "queued"
        jobs = list(await s.scalars(select(Job).where(Job.parent_id == p.id)))
        assert [j.kind for j in jobs] == ["checkin"]


async def test_whole_conversation_in_english(line: Line) -> None:
    await _walk(line, 501, "en", "78701")


async def test_whole_conversation_in_spanish(line: Line) -> None:
    await _walk(line, 502, "es", "Texas", county="Travis")


async def test_names_are_never_stored(line: Line) -> None:
    parent = line.parent(503)
    parent.says("hello")
    await parent.reads(t(line, "parent.welcome")[:30])
    async with line.runtime.db.read() as s:
        rows = list(await s.scalars(select(InboxRow)))
    assert rows and all("Parent503" not in str(r.payload) for r in rows)
    assert all("parent503" not in str(r.payload) for r in rows)


async def test_restart_mid_flow_resumes_where_the_parent_was(line: Line) -> None:
    parent = line.parent(504)
    parent.says("/start")
    parent.says("It has been a really long week and I am worn out at home")
    await parent.reads(t(line, "parent.ask_help")[:30])
    await line.runtime.stop()

    # A new process on the same database file.
    line.runtime = LineRuntime(line.runtime.settings, db=line.runtime.db, serve_web=False)
    await line.runtime.start()
    await parent.press(t(line, "parent.buttons.ideas"))
    await parent.reads(t(line, "parent.topic.choose")[:30])


async def test_messages_sent_while_the_bot_is_down_are_answered_after_restart(
    line: Line,
) -> None:
    await line.runtime.stop()
    parent = line.parent(505)
    parent.says("/start")  # nobody is polling now
    line.runtime = LineRuntime(line.runtime.settings, db=line.runtime.db, serve_web=False)
    await line.runtime.start()
    await parent.reads(t(line, "parent.welcome")[:30])


async def test_forget_really_deletes(line: Line) -> None:
    parent = line.parent(506)
    parent.says("/start")
    parent.says("My daughter will not eat anything but crackers and I worry all the time")
    await parent.reads(t(line, "parent.ask_help")[:30])
    parent.says("/forget")
    await parent.reads(t(line, "parent.forget.confirm")[:30])
    await parent.press(t(line, "parent.buttons.forget_yes"))
    await parent.reads(t(line, "privacy.forget_limits")[:30])
    async with line.runtime.db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Parent)) == 0
        left = list(await s.scalars(select(InboxRow).where(InboxRow.chat_id == 506)))
    assert left == []
    await line.fake.wait_until(
        lambda: sum(m["deleted"] for m in line.fake.messages_to(506)) >= 3, timeout=10)


async def test_retention_purge_removes_text_and_keeps_counts(line: Line) -> None:
    parent = line.parent(507)
    parent.says("/start")
    await parent.reads(t(line, "parent.welcome")[:30])
    counts = await purge(line.runtime.db, datetime.now(UTC) + timedelta(days=31), 30)
    assert counts["inbox"] >= 1
    async with line.runtime.db.read() as s:
        assert await s.scalar(select(func.count()).select_from(InboxRow)) == 0
        assert await s.scalar(select(func.count()).select_from(DailyStat)) >= 1


async def test_a_failing_update_does_not_hold_up_others_in_its_batch(line: Line) -> None:
    """Both rows are pending at start, so they share the first batch; the poison one
    (a job with a broken argument) rolls it back, and each goes on row by row."""
    from core.storage.inbox import enqueue_internal

    await line.runtime.stop()
    async with line.runtime.db.tx() as s:
        await enqueue_internal(s, line.runtime.db.sqlite, "poison:1", 1301,
                               {"job": "flood_flush", "conv": "not-a-number"}, datetime.now(UTC))
    parent = line.parent(1302)
    parent.says("/start")
    line.runtime = LineRuntime(line.runtime.settings, db=line.runtime.db, serve_web=False)
    await line.runtime.start()
    await parent.reads(t(line, "parent.welcome")[:30])

    async def poison() -> InboxRow | None:
        async with line.runtime.db.read() as s:
            return await s.scalar(select(InboxRow).where(InboxRow.chat_id == 1301))

    for _ in range(100):
        row = await poison()
        if row is not None and row.processed_at is not None:
            break
        await asyncio.sleep(0.1)
    assert row is not None and row.processed_at is not None  # given up on, not stuck
    assert row.attempts == 3 and row.error == "ValueError"


async def test_the_running_line_checkpoints_its_wal(line: Line) -> None:
    """The database file itself grows only when the WAL is copied into it: the runtime
    does that every second from a thread (SQLite's own checkpoint in a commit would stall
    every reply meanwhile)."""
    if not line.runtime.db.sqlite:
        pytest.skip("PostgreSQL has no WAL file of ours to checkpoint")
    path = Path(line.runtime.db.url.split("///", 1)[1])
    before = _size(path)
    for uid in range(1601, 1611):
        parent = line.parent(uid)
        parent.says("/start")
        await parent.reads(t(line, "parent.welcome")[:30])
    for _ in range(40):
        if _size(path) > before:
            break
        await asyncio.sleep(0.1)
    assert _size(path) > before


def _size(path: Path) -> int:
    return path.stat().st_size
