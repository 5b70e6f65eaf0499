"""The hot statements do the same on every backend: the contract of ``core.storage.hot``.

Each hot statement is one SQLAlchemy Core statement, run on the sqlite3 connection itself
on the embedded default and through the session elsewhere. If a value were converted
differently on one of the ways (a timestamp, a JSON document, a date), ORM reads and SQL
comparisons (``received_at <= ?``) would quietly go wrong. So the same operations run on
the inline SQLite connection, on SQLite through aiosqlite's thread and on PostgreSQL;
what they return and what the tables hold afterwards is compared: on the two SQLite
files value for value as stored, and on all three as SQLAlchemy reads it back.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, select, text

from bot.telegram.intake import store_updates
from bot.telegram.outgoing import add_actions
from bot.telegram.polling import save_offset_in
from core.context import write_counters
from core.storage import hot, inbox, outbox
from core.storage.db import AUTOCHECKPOINT_PAGES, Database
from core.storage.migrate import upgrade
from core.storage.models import Base, Conversation, OutboxRow, Parent, RelayLink
from flows.events import Button, CopyMessage, SendText

# Not UTC on purpose: stored timestamps must come out in UTC either way.
NOW = datetime(2026, 11, 25, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=-5)))
TABLES = {
    "inbox": "dedupe_key, chat_id, seq, payload, received_at, processed_at, attempts",
    "outbox": "chat_id, method, params, meta, created_at, not_before, attempts, status, "
              "sent_at, message_id, lease_until",
    "sent_messages": "chat_id, message_id, sent_at",
    "daily_stats": "day, metric, value",
    "kv": "key, value",
    "relay_links": "staff_chat_id, staff_message_id",
}


def _update(uid: int, chat: int, text: str) -> dict[str, Any]:
    return {"update_id": uid, "message": {
        "message_id": uid, "date": 1_700_000_000, "text": text,
        "chat": {"id": chat, "type": "private"}, "from": {"id": chat, "is_bot": False}}}


async def _exercise(db: Database) -> dict[str, Any]:
    updates = [_update(1, 10, "Olá — ¿qué tal? 🙂"), _update(2, 11, "x" * 5000), _update(3, 10, "")]
    assert await store_updates(db, updates, NOW, then=partial(save_offset_in, offset=4)) == 3
    assert await store_updates(db, updates[1:], NOW) == 0  # duplicates ignored
    async with db.tx() as s:
        await save_offset_in(s, 3)  # never moves back
        pending = await inbox.pending_rows(s, 10, exclude=[11])
        settled = await inbox.pending_rows(s, 10, settled_before=NOW - timedelta(seconds=1))
        await inbox.mark_processed(s, [p.id for p in pending], NOW)
        await add_actions(s, [
            SendText(10, "hello", ((Button("Yes", "y|1|sig"),),)),
            CopyMessage(20, 10, 5, reply_to_message_id=7), SendText(11, "a" * 5000)], NOW)
        await write_counters(s, {(date(2026, 11, 25), "messages"): 2, (NOW.date(), "x"): 1})
        await write_counters(s, {(date(2026, 11, 25), "messages"): 3})
        parent = Parent(pseudonym="K7Q2", tg_user_id=10, chat_id=10, lang="en",
                        created_at=NOW, last_seen_at=NOW)
        s.add(parent)
        await s.flush()
        conv = Conversation(parent_id=parent.id, status="active", priority="normal",
                            crisis=False, lang="en", queued_at=NOW)
        s.add(conv)
        await s.flush()
        link = RelayLink(conversation_id=conv.id, staff_chat_id=20, created_at=NOW)
        s.add(link)
        await s.flush()
        link_id = link.id
    async with db.read() as s:
        rows = list(await s.scalars(select(OutboxRow).order_by(OutboxRow.id)))
    async with db.tx() as s:
        offered = [(r.id, r.chat_id, r.method, r.params, r.meta, r.created_at, r.not_before,
                    r.attempts, r.status) for r in await outbox.pending_rows_of(s, {10, 20})]
        with_none = await outbox.pending_rows_of(s, {None})
    assert offered == [(r.id, r.chat_id, r.method, r.params, r.meta, r.created_at,
                        r.not_before, r.attempts, r.status) for r in rows if r.chat_id != 11]
    assert offered[0][5] == NOW.astimezone(UTC) and with_none == []
    rows[1].meta = {**rows[1].meta, "relay_link": link_id}  # the copy goes to a specialist
    async with db.tx() as s:
        await outbox.record_sent_many(s, [(rows[0], 101, NOW), (rows[1], 102, NOW + timedelta(
            seconds=1))])
    return {"pending": [(p.chat_id, p.payload) for p in pending], "settled": len(settled),
            "offered": [o[1:] for o in offered], "read_back": await _read_back(db)}


async def _read_back(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every compared column as SQLAlchemy reads it, in a backend-neutral order."""
    out = {}
    async with db.read() as s:
        for name, cols in TABLES.items():
            table = Base.metadata.tables[name]
            assert isinstance(table, Table)
            columns = [table.c[c.strip()] for c in cols.split(",")]
            found = (await s.execute(select(*columns))).all()
            out[name] = sorted((tuple(r) for r in found), key=repr)
    return out


def _tables(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    con = sqlite3.connect(path)
    try:
        return {t: con.execute(f"SELECT {cols} FROM {t} ORDER BY 1, 2").fetchall()
                for t, cols in TABLES.items()}
    finally:
        con.close()


PG_URL = os.environ.get("PARENTLINE_TEST_POSTGRES_URL", "")


async def test_hot_statements_store_the_same_on_every_backend(tmp_path: Path) -> None:
    results = {}
    for name, inline in (("fast", True), ("sqlalchemy", False)):
        db = Database(f"sqlite+aiosqlite:///{tmp_path / name}.db", sqlite_inline=inline)
        await upgrade(db)
        async with db.tx() as s:
            assert await hot.runs_inline(s) == inline
        try:
            results[name] = (await _exercise(db), _tables(tmp_path / f"{name}.db"))
        finally:
            await db.dispose()
    fast, slow = results["fast"], results["sqlalchemy"]
    assert fast[0] == slow[0]
    assert fast[0]["pending"][0] == (10, updates_payload(1))
    assert fast[0]["settled"] == 0  # stored at NOW, not before it
    for table in TABLES:
        assert fast[1][table] == slow[1][table], table
    assert fast[1]["kv"] == [("polling_offset", "4")]
    assert ("2026-11-25", "messages", 5) in fast[1]["daily_stats"]
    assert fast[1]["relay_links"] == [(20, 102)]
    # By chat: the reply (101), the long text in two parts, the copy to the specialist (102).
    assert [r[9] for r in fast[1]["outbox"]] == [101, None, None, 102]
    stored_at = fast[1]["inbox"][0][4]
    assert stored_at == "2026-11-25 14:30:15.123456"  # UTC, the ORM's own format
    assert fast[0]["read_back"]["outbox"][0][5] == NOW.astimezone(UTC)


async def test_hot_statements_on_postgresql_match_sqlite(tmp_path: Path) -> None:
    if not PG_URL:
        pytest.skip("PARENTLINE_TEST_POSTGRES_URL is not set (.ci/run sets it)")
    lite = Database(f"sqlite+aiosqlite:///{tmp_path / 'lite.db'}")
    pg = Database(PG_URL, schema=f"t_{uuid.uuid4().hex[:10]}")
    try:
        for db in (lite, pg):
            await upgrade(db)
        on_sqlite, on_pg = await _exercise(lite), await _exercise(pg)
        async with pg.tx() as s:
            assert not await hot.runs_inline(s)
    finally:
        await pg.drop_schema()
        await pg.dispose()
        await lite.dispose()
    assert on_pg == on_sqlite
    assert on_pg["read_back"]["kv"] == [("polling_offset", "4")]


def updates_payload(uid: int) -> Any:
    return _update(uid, 10, "Olá — ¿qué tal? 🙂")


async def test_the_wal_is_checkpointed_off_the_event_loop(tmp_path: Path) -> None:
    """Commits on the loop no longer copy the WAL back (SQLite's automatic checkpoint is
    raised to a 40 MB bound); ``Database.checkpoint`` does it from a thread instead."""
    path = tmp_path / "wal.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    await upgrade(db)
    try:
        async with db.read() as s:
            bound = (await s.execute(text("PRAGMA wal_autocheckpoint"))).scalar()
        assert bound == AUTOCHECKPOINT_PAGES
        for i in range(30):
            await store_updates(db, [_update(100 + i, 10, "a" * 3000)], NOW)
        wal = path.with_name(path.name + "-wal")
        con = sqlite3.connect(path)
        try:
            (pages,) = con.execute("PRAGMA page_count").fetchone()
        finally:
            con.close()
        # The new rows are only in the WAL until a checkpoint copies them.
        assert wal.stat().st_size > 30 * 3000
        result = await db.checkpoint()
        assert result is not None
        busy, frames, copied = result
        assert busy == 0 and frames > 0 and copied == frames
        con = sqlite3.connect(path)
        try:
            assert con.execute("PRAGMA page_count").fetchone()[0] >= pages
            assert con.execute("SELECT count(*) FROM inbox").fetchone()[0] == 30
        finally:
            con.close()
    finally:
        await db.dispose()
    postgres = Database("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    assert await postgres.checkpoint() is None
    await postgres.dispose()
