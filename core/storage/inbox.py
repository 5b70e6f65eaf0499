"""The durable inbox: updates are committed here before Telegram hears they arrived.

Per-chat order across workers and replicas comes from chat leases: a worker takes a
chat with one atomic upsert, processes that chat's rows oldest first, and lets go.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Integer, Select, Table, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.storage import hot
from core.storage.db import Database, upsert_insert
from core.storage.models import ChatLease, InboxRow


@dataclass(frozen=True, slots=True)
class Arrival:
    """One update as the inbox keeps it: its id (for order and deduplication), its chat
    (for per-chat order) and its payload, already stripped of personal details.

    The channel adapter (``bot/telegram/intake.py``) makes these from raw updates.
    """

    update_id: int
    chat_id: int
    payload: dict[str, Any]


async def store_arrivals(db: Database, arrivals: Iterable[Arrival], now: datetime, *,
                         then: Callable[[AsyncSession], Awaitable[None]] | None = None) -> int:
    """Commit arrivals (deduplicated by ``update_id``); returns how many were new.

    The caller acknowledges to Telegram only after this returns. ``then`` runs in the
    same transaction (the poller records its next offset there).
    """
    rows = [
        {
            "dedupe_key": f"tg:{a.update_id}",
            "chat_id": a.chat_id,
            "seq": a.update_id,
            "payload": a.payload,
            "received_at": now,
            "attempts": 0,
        }
        for a in arrivals
    ]
    if not rows:
        return 0
    async with db.tx() as s:
        new = await hot.insert_new(s, _STORE, rows)
        if then is not None:
            await then(s)
    return new


async def enqueue_internal(
    session: AsyncSession, sqlite: bool, key: str, chat_id: int, payload: dict[str, Any],
    now: datetime,
) -> None:
    """Add an internal event (a due job, a delivery failure) to a chat's inbox, once."""
    ins = upsert_insert(sqlite)(InboxRow).values(
        dedupe_key=key[:64],
        chat_id=chat_id,
        payload={"internal": payload},
        received_at=now,
        attempts=0,
    ).on_conflict_do_nothing(index_elements=["dedupe_key"])
    await session.execute(ins)


async def pending_chats(db: Database, limit: int, exclude: Iterable[int] = (),
                        settled_before: datetime | None = None) -> list[int]:
    """Chats with unprocessed rows, the longest-waiting first (only rows that arrived by
    ``settled_before``, the same hold-back as :func:`next_rows`)."""
    excl = list(exclude)
    q = select(InboxRow.chat_id, func.min(InboxRow.id).label("first")).where(
        InboxRow.processed_at.is_(None))
    if settled_before is not None:
        q = q.where(InboxRow.received_at <= settled_before)
    q = (
        q.group_by(InboxRow.chat_id)
        .order_by("first")
        .limit(limit + len(excl))
    )
    async with db.read() as s:
        rows = (await s.execute(q)).all()
    skip = set(excl)
    return [r[0] for r in rows if r[0] not in skip][:limit]


@dataclass(frozen=True, slots=True)
class Pending:
    """An unprocessed row, as a batch needs it (no ORM object: nothing in it changes)."""

    id: int
    chat_id: int
    payload: dict[str, Any] | None


async def pending_rows(session: AsyncSession, limit: int, exclude: Iterable[int] = (),
                       settled_before: datetime | None = None) -> list[Pending]:
    """The oldest unprocessed rows of any chats, each chat's in the order of :func:`next_rows`.

    Read inside the transaction that processes them (one process on SQLite: nothing else
    takes rows meanwhile). Chats in ``exclude`` are being worked one row at a time.
    """
    if settled_before is not None:
        found = await hot.rows(session, _PENDING_SETTLED, {
            "excl": list(exclude), "limit": limit, "settled": settled_before})
    else:
        found = await hot.rows(session, _PENDING, {"excl": list(exclude), "limit": limit})
    return [Pending(*r) for r in found]


def _pending_query(settled: bool) -> Select[tuple[int, int, dict[str, Any] | None]]:
    q = select(InboxRow.id, InboxRow.chat_id, InboxRow.payload).where(
        InboxRow.processed_at.is_(None),
        InboxRow.chat_id.not_in(bindparam("excl", expanding=True)))
    if settled:
        q = q.where(InboxRow.received_at <= bindparam("settled"))
    return (q.order_by(InboxRow.seq.is_(None), InboxRow.seq, InboxRow.id)
            .limit(bindparam("limit", type_=Integer)))


# Built once: at 200 messages a second, building these cost more than running them.
_PENDING = hot.HotStatement(lambda _: _pending_query(False))
_PENDING_SETTLED = hot.HotStatement(lambda _: _pending_query(True))
_INBOX = cast(Table, InboxRow.__table__)
_STORE = hot.HotStatement(
    lambda insert: insert(_INBOX).on_conflict_do_nothing(index_elements=["dedupe_key"]),
    keys=("dedupe_key", "chat_id", "seq", "payload", "received_at", "attempts"),
    count_by=_INBOX.c.id)
_MARK_PROCESSED = hot.HotStatement(
    lambda _: update(_INBOX).where(_INBOX.c.id.in_(bindparam("ids", expanding=True)))
    .values(processed_at=bindparam("at")))


async def mark_processed(session: AsyncSession, ids: Sequence[int], now: datetime) -> None:
    if not ids:
        return
    await hot.execute(session, _MARK_PROCESSED, {"ids": list(ids), "at": now})


async def take_chat(db: Database, chat_id: int, owner: str, now: datetime, ttl: float) -> bool:
    """Lease ``chat_id`` for ``owner`` unless another live owner holds it (atomic)."""
    until = now + timedelta(seconds=ttl)
    ins = upsert_insert(db.sqlite)(ChatLease).values(chat_id=chat_id, owner=owner, until=until)
    stmt = ins.on_conflict_do_update(
        index_elements=["chat_id"],
        set_={"owner": owner, "until": until},
        where=(ChatLease.until < now) | (ChatLease.owner == owner),
    ).returning(ChatLease.owner)
    async with db.tx() as s:
        got = (await s.execute(stmt)).scalar_one_or_none()
    return got == owner


async def release_chat(db: Database, chat_id: int, owner: str) -> None:
    async with db.tx() as s:
        await s.execute(
            delete(ChatLease).where(ChatLease.chat_id == chat_id, ChatLease.owner == owner)
        )


async def next_rows(db: Database, chat_id: int, limit: int = 20,
                    settled_before: datetime | None = None) -> Sequence[InboxRow]:
    """The chat's unprocessed rows: Telegram updates by ``update_id``, then internal events.

    ``settled_before`` holds back rows that arrived after it, giving a webhook delivery
    that overtook an earlier one on a parallel connection time to be joined by it.
    """
    q = select(InboxRow).where(InboxRow.chat_id == chat_id, InboxRow.processed_at.is_(None))
    if settled_before is not None:
        q = q.where(InboxRow.received_at <= settled_before)
    async with db.read() as s:
        rows = await s.scalars(
            q.order_by(InboxRow.seq.is_(None), InboxRow.seq, InboxRow.id).limit(limit)
        )
        return list(rows)


async def mark_failed_attempt(db: Database, row_id: int, error: str, give_up_after: int,
                              now: datetime) -> bool:
    """Count a failed attempt; returns True when the row is given up on now (then it is
    marked processed and the caller sends the fallback)."""
    async with db.tx() as s:
        row = await s.get(InboxRow, row_id)
        if row is None or row.processed_at is not None:
            return False  # done elsewhere (another replica, /forget): nothing to give up on
        row.attempts += 1
        row.error = error[:200]
        if row.attempts >= give_up_after:
            row.processed_at = now
            return True
    return False


async def purge_processed(session: AsyncSession, older_than: datetime) -> int:
    """Drop the text of processed rows past retention (the rows themselves go too)."""
    res = await session.execute(
        delete(InboxRow).where(
            InboxRow.processed_at.is_not(None), InboxRow.processed_at < older_than
        )
    )
    return int(getattr(res, "rowcount", 0) or 0)


async def backlog(session: AsyncSession) -> int:
    return int(
        (await session.execute(
            select(func.count()).select_from(InboxRow).where(InboxRow.processed_at.is_(None))
        )).scalar_one()
    )


async def touch_processed(session: AsyncSession, row_id: int, now: datetime) -> None:
    await session.execute(update(InboxRow).where(InboxRow.id == row_id).values(processed_at=now))
