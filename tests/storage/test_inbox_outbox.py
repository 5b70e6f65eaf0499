"""The durable inbox and outbox on both backends: dedupe, order, leases, retention."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.telegram.intake import store_updates
from bot.telegram.outgoing import add_actions
from core.storage import inbox, outbox
from core.storage.db import Database
from core.storage.models import InboxRow, OutboxRow
from flows.events import Button, CopyMessage, SendText


def _update(uid: int, chat: int, text: str = "hi") -> dict:
    return {
        "update_id": uid,
        "message": {
            "message_id": uid,
            "date": 1_700_000_000,
            "chat": {"id": chat, "type": "private", "first_name": "Ana", "username": "ana"},
            "from": {"id": chat, "is_bot": False, "first_name": "Ana", "last_name": "P",
                     "username": "ana", "language_code": "es"},
            "text": text,
        },
    }


async def test_updates_are_deduplicated_and_names_dropped(db: Database) -> None:
    now = datetime.now(UTC)
    assert await store_updates(db, [_update(1, 10), _update(2, 10)], now) == 2
    assert await store_updates(db, [_update(2, 10), _update(3, 11)], now) == 1
    async with db.read() as s:
        rows = list(await s.scalars(select(InboxRow).order_by(InboxRow.id)))
    assert [r.dedupe_key for r in rows] == ["tg:1", "tg:2", "tg:3"]
    stored = str(rows[0].payload)
    assert "Ana" not in stored and "ana" not in stored
    assert rows[0].payload["message"]["from"]["language_code"] == "es"


async def test_pending_chats_oldest_first_and_rows_in_order(db: Database) -> None:
    now = datetime.now(UTC)
    await store_updates(db, [_update(5, 20), _update(6, 21), _update(7, 20)], now)
    assert await inbox.pending_chats(db, 10) == [20, 21]
    rows = await inbox.next_rows(db, 20)
    assert [r.dedupe_key for r in rows] == ["tg:5", "tg:7"]


async def test_chat_lease_is_exclusive_until_it_expires(db: Database) -> None:
    now = datetime.now(UTC)
    assert await inbox.take_chat(db, 7, "a", now, 30)
    assert not await inbox.take_chat(db, 7, "b", now, 30)
    assert await inbox.take_chat(db, 7, "a", now, 30)  # the owner renews
    assert await inbox.take_chat(db, 7, "b", now + timedelta(seconds=31), 30)  # expired
    await inbox.release_chat(db, 7, "b")
    assert await inbox.take_chat(db, 7, "c", now, 30)


async def test_concurrent_lease_has_one_winner(db: Database) -> None:
    now = datetime.now(UTC)
    for chat in range(20):
        results = await asyncio.gather(
            *(inbox.take_chat(db, chat, f"w{i}", now, 30) for i in range(5))
        )
        assert sum(results) == 1


async def test_outbox_orders_per_chat_and_splits_long_text(db: Database) -> None:
    now = datetime.now(UTC)
    async with db.tx() as s:
        await add_actions(s, [
            SendText(1, "a" * 5000, buttons=((Button("ok", "x|y|z"),),)),
            SendText(2, "other chat"),
            CopyMessage(1, 2, 99, meta={"relay_link": 5}),
        ], now)
    due = await outbox.due_rows(db, now, 10, busy=())
    assert [(r.chat_id, r.method) for r in due] == [(1, "sendMessage"), (2, "sendMessage")]
    first = due[0]
    assert len(first.params["text"]) <= 4096 and "buttons" not in first.params
    assert await outbox.lease(db, first.id, "me", now, 60)
    assert not await outbox.lease(db, first.id, "you", now, 60)
    await outbox.mark_sent(db, first, 1000, now)
    due = await outbox.due_rows(db, now, 10, busy=())
    chat1 = next(r for r in due if r.chat_id == 1)
    assert chat1.params["buttons"] == [[{"t": "ok", "d": "x|y|z"}]]  # on the last part only
    async with db.read() as s:
        assert (await s.get(OutboxRow, first.id)).params is None  # text gone once delivered


async def test_retry_waits_and_dead_rows_unblock_the_chat(db: Database) -> None:
    now = datetime.now(UTC)
    async with db.tx() as s:
        await add_actions(s, [SendText(3, "one"), SendText(3, "two")], now)
    (row,) = await outbox.due_rows(db, now, 10, busy=())
    await outbox.mark_retry(db, row, 5.0, "429", now)
    assert await outbox.due_rows(db, now, 10, busy=()) == []  # order kept: "two" waits too
    later = now + timedelta(seconds=6)
    (again,) = await outbox.due_rows(db, later, 10, busy=())
    assert again.id == row.id and again.attempts == 1
    await outbox.mark_dead(db, again, "400", later)
    (nxt,) = await outbox.due_rows(db, later, 10, busy=())
    assert nxt.params["text"] == "two"


async def test_purge_removes_processed_rows_past_retention(db: Database) -> None:
    old = datetime.now(UTC) - timedelta(days=40)
    await store_updates(db, [_update(1, 1), _update(2, 1)], old)
    async with db.tx() as s:
        await inbox.touch_processed(s, 1, old)
        n = await inbox.purge_processed(s, datetime.now(UTC) - timedelta(days=30))
    assert n == 1
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(InboxRow)) == 1


async def test_polling_offset_only_moves_forward(db: Database) -> None:
    from bot.telegram.polling import load_offset, save_offset

    assert await load_offset(db) is None
    await save_offset(db, 10)
    await save_offset(db, 12)
    await save_offset(db, 11)  # a late, older poll must not move it back
    assert await load_offset(db) == 12


async def test_polling_survives_an_update_it_cannot_store(db: Database) -> None:
    """A store that fails leaves the updates unacknowledged; polling goes on."""
    from bot.telegram.polling import Poller, load_offset

    bad = _update(1, 40)
    bad["message"]["text"] = b"\xff"  # not JSON: the inbox insert raises
    batches = [[bad], [_update(2, 40), _update(3, 41)]]
    offsets: list[int | None] = []

    async def get_updates(offset: int | None, timeout: int) -> list[dict]:
        offsets.append(offset)
        if batches:
            return batches.pop(0)
        await asyncio.sleep(0.05)
        return []

    poller = Poller(db, get_updates, lambda: None, timeout=1)
    task = asyncio.create_task(poller.run())
    for _ in range(100):
        if await load_offset(db) == 4:
            break
        await asyncio.sleep(0.05)
    poller.stop()
    await asyncio.wait_for(task, 5)
    assert offsets[:2] == [None, None]  # the failed batch was not acknowledged
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(InboxRow)) == 2
    assert await load_offset(db) == 4
