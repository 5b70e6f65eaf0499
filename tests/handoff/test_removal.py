"""Taking a specialist off the roster mid-conversation, on SQLite and PostgreSQL.

Real content, real database files (a fresh schema on PostgreSQL), no mocks: the
conversations go back to the front of the queue, each parent is told with their place,
a crisis is alerted as a crisis to the colleague on duty and never to the removed
person, who is told once; a pause from the dashboard only applies to someone on duty.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from core.config import Settings
from core.context import Ctx
from core.storage.db import Database
from core.storage.migrate import upgrade
from core.storage.models import Conversation, Parent, Staff
from flows.content import Content, load_content
from flows.events import SendText
from handoff import removal, roster

CONTENT_DIR = Path(__file__).resolve().parents[2] / "content"
PG_URL = os.environ.get("PARENTLINE_TEST_POSTGRES_URL")
NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)  # Tuesday 10:00 in Los Angeles: open
ANA, BEN, COORD = 1001, 1002, 1003
P1, P2 = 9001, 9002
CONTENT = load_content(CONTENT_DIR)


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "postgres":
        if not PG_URL:
            pytest.skip("set PARENTLINE_TEST_POSTGRES_URL to run on PostgreSQL")
        database = Database(PG_URL, schema=f"t_{uuid.uuid4().hex[:10]}")
    else:
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'line.db'}")
    await upgrade(database)
    async with database.tx() as s:
        await roster.add_staff(s, ANA, "Ana", "specialist", ["en"], 2, [], NOW)
        await roster.add_staff(s, BEN, "Ben", "specialist", ["en"], 3, [], NOW)
        await roster.add_staff(s, COORD, "Cora", "coordinator", ["en"], 3, [], NOW)
        for sid in (ANA, BEN):
            staff = await s.get(Staff, sid)
            assert staff is not None
            staff.on_duty, staff.duty_started_at = True, NOW - timedelta(hours=1)
        for pid, (chat, pseud, lang) in enumerate(((P1, "K7Q2", "en"), (P2, "M3P9", "es")),
                                                  start=1):
            s.add(Parent(id=pid, pseudonym=pseud, tg_user_id=chat, chat_id=chat, lang=lang,
                         created_at=NOW, last_seen_at=NOW))
        await s.flush()
        s.add(Conversation(parent_id=1, status="active", priority="normal", lang="en",
                           queued_at=NOW - timedelta(minutes=20),
                           claimed_at=NOW - timedelta(minutes=18), specialist_id=ANA))
        s.add(Conversation(parent_id=2, status="active", priority="crisis", crisis=True,
                           crisis_category="suicide", lang="es",
                           queued_at=NOW - timedelta(minutes=5),
                           claimed_at=NOW - timedelta(minutes=4), specialist_id=ANA))
    try:
        yield database
    finally:
        await database.drop_schema()
        await database.dispose()


def _settings() -> Settings:
    return Settings(secret_key="test-secret", staff_chat_id=-1001, telegram_token="x")


def _content() -> Content:
    return CONTENT


def texts_to(actions: list[object], chat: int) -> list[str]:
    return [a.text for a in actions if isinstance(a, SendText) and a.chat_id == chat]


async def test_removal_requeues_tells_parents_alerts_colleagues_not_the_removed(
        db: Database) -> None:
    async with db.tx() as s:
        ctx = Ctx(session=s, now=NOW, settings=_settings(), content=_content())
        ana = await s.get(Staff, ANA)
        assert ana is not None
        moved = await removal.remove_from_roster(ctx, ana)
        actions = list(ctx.actions)
    assert moved == 2
    async with db.read() as s:
        assert await s.get(Staff, ANA) is None
        convs = list(await s.scalars(select(Conversation).order_by(Conversation.id)))
    assert [(c.status, c.specialist_id, c.front_of_queue) for c in convs] == [
        ("queued", None, True), ("queued", None, True)]

    # each parent hears it once, in their language, with the place they really have:
    # the crisis goes first, so the other parent is told number 2, not 1
    assert texts_to(actions, P2) == [CONTENT.text("handoff.back_in_queue", "es", position=1,
                                                  minutes=5)]
    assert texts_to(actions, P1) == [CONTENT.text("handoff.back_in_queue", "en", position=2,
                                                  minutes=5)]
    # Ben, on duty, is alerted, the crisis as a crisis; Ana hears only that she was removed
    ben = texts_to(actions, BEN)
    assert [t.split(" — ")[0][:9] for t in ben] == ["🚨 CRISIS", "Parent K7"]
    assert texts_to(actions, ANA) == [
        CONTENT.text("staff.removed_from_roster", "en", count=2)]


async def test_a_pause_from_the_dashboard_needs_someone_on_duty(db: Database) -> None:
    async with db.tx() as s:
        ctx = Ctx(session=s, now=NOW, settings=_settings(), content=_content())
        ben, cora = await s.get(Staff, BEN), await s.get(Staff, COORD)
        assert ben is not None and cora is not None
        assert removal.set_paused(ctx, ben, True) and ben.paused
        assert not removal.set_paused(ctx, ben, True)  # already paused: nothing said twice
        assert not removal.set_paused(ctx, cora, True) and not cora.paused  # off duty
        assert removal.set_paused(ctx, ben, False) and not ben.paused
        said = texts_to(list(ctx.actions), BEN)
    assert said == [CONTENT.text("staff.paused_by_coordinator", "en"),
                    CONTENT.text("staff.unpaused_by_coordinator", "en")]
    assert texts_to(list(ctx.actions), COORD) == []
