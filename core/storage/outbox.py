"""The durable outbox: every message the line owes someone, until Telegram takes it.

Rows are written in the same transaction as the state change that caused them, and a
sender delivers them in order within each chat. Across replicas, a row is leased with a
conditional update, and only a chat's oldest pending row is ever eligible, so order
holds even with several senders.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    Integer,
    Select,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from core.storage import hot
from core.storage.db import Database
from core.storage.models import OutboxRow, RelayLink, SentMessage

# One row as the channel adapter wrote it: ``(chat_id, method, params, meta)``. The method
# and params are the adapter's vocabulary (``bot/telegram/outgoing.py`` turns actions into
# Bot API calls); the outbox keeps them, in order, until the adapter delivers them.
Outgoing = tuple[int | None, str, dict[str, Any], dict[str, Any]]
# The tables themselves, for multi-row statements that need no ORM objects.
_OUTBOX = cast(Table, OutboxRow.__table__)
_SENT = cast(Table, SentMessage.__table__)


async def add_rows(session: AsyncSession, rows: Iterable[Outgoing], now: datetime) -> int:
    """Queue ``rows`` in the caller's transaction, in order, with one multi-row INSERT;
    returns the number of rows."""
    values = [
        {"chat_id": chat_id, "method": method, "params": params, "meta": meta,
         "created_at": now, "not_before": now, "attempts": 0, "status": "pending"}
        for chat_id, method, params, meta in rows
    ]
    await hot.execute(session, _ADD, values)
    return len(values)


_ADD = hot.HotStatement(lambda _: insert(_OUTBOX), keys=(
    "chat_id", "method", "params", "meta", "created_at", "not_before", "attempts", "status"))


async def pending_rows_of(session: AsyncSession, chat_ids: Iterable[int | None]
                          ) -> Sequence[OutboxRow]:
    """Every pending row of these chats (``None``: rows for no chat, e.g. callback
    answers), oldest first: what the sender may start on right after a batch commits."""
    wanted = set(chat_ids)
    chats = sorted(c for c in wanted if c is not None)
    stmt = _PENDING_OF_AND_NULL if None in wanted else _PENDING_OF
    # Detached copies with the columns the sender reads; it changes nothing in them.
    return [OutboxRow(**dict(zip(_PENDING_COLUMNS, r, strict=True)))
            for r in await hot.rows(session, stmt, {"chats": chats})]


_PENDING_COLUMNS = ("id", "chat_id", "method", "params", "meta", "created_at", "not_before",
                    "attempts", "status")
_PENDING_OF = hot.HotStatement(
    lambda _: select(*(_OUTBOX.c[c] for c in _PENDING_COLUMNS))
    .where(_OUTBOX.c.status == "pending", _OUTBOX.c.chat_id.in_(bindparam("chats", expanding=True)))
    .order_by(_OUTBOX.c.id))
_PENDING_OF_AND_NULL = hot.HotStatement(
    lambda _: select(*(_OUTBOX.c[c] for c in _PENDING_COLUMNS))
    .where(_OUTBOX.c.status == "pending",
           or_(_OUTBOX.c.chat_id.in_(bindparam("chats", expanding=True)),
               _OUTBOX.c.chat_id.is_(None)))
    .order_by(_OUTBOX.c.id))


def _due_query() -> Select[OutboxRow]:
    """Built once: constructing a statement costs more than SQLite running it."""
    heads = (
        select(func.min(OutboxRow.id))
        .where(OutboxRow.status == "pending", OutboxRow.chat_id.is_not(None))
        .group_by(OutboxRow.chat_id)
    )
    now: BindParameter[datetime] = bindparam("now")
    return (
        select(OutboxRow)
        .where(
            OutboxRow.status == "pending",
            OutboxRow.not_before <= now,
            or_(OutboxRow.id.in_(heads), OutboxRow.chat_id.is_(None)),
            or_(OutboxRow.lease_until.is_(None), OutboxRow.lease_until <= now),
        )
        .order_by(OutboxRow.id)
        .limit(bindparam("limit", type_=Integer))
    )


_DUE = _due_query()


async def due_rows(db: Database, now: datetime, limit: int, busy: Iterable[int]) -> list[OutboxRow]:
    """Rows that may be sent now: each chat's oldest pending row, if it is due and unleased.

    Selecting the head of every chat in the query (rather than scanning the oldest rows
    overall) keeps a chat whose head is waiting out a backoff from hiding every other chat.
    """
    busy_set = set(busy)
    async with db.read() as s:
        rows = (await s.scalars(_DUE, {"now": now, "limit": limit + len(busy_set)})).all()
    return [r for r in rows if r.chat_id is None or r.chat_id not in busy_set][:limit]


async def lease(db: Database, row_id: int, owner: str, now: datetime, ttl: float) -> bool:
    """Claim a row for sending; False if another sender has it."""
    async with db.tx() as s:
        res = await s.execute(
            update(OutboxRow)
            .where(
                OutboxRow.id == row_id,
                OutboxRow.status == "pending",
                or_(OutboxRow.lease_until.is_(None), OutboxRow.lease_until < now),
            )
            .values(lease_owner=owner, lease_until=now + timedelta(seconds=ttl))
        )
    return bool(getattr(res, "rowcount", 0))


async def mark_sent(db: Database, row: OutboxRow, message_id: int | None, now: datetime) -> None:
    """Record delivery, and what the new message id means (relay routing, /forget)."""
    async with db.tx() as s:
        await record_sent(s, row, message_id, now)


async def record_sent(s: AsyncSession, row: OutboxRow, message_id: int | None,
                      now: datetime) -> None:
    """``mark_sent`` inside the caller's transaction."""
    await record_sent_many(s, [(row, message_id, now)])


_MARK_SENT = hot.HotStatement(lambda _: update(_OUTBOX).where(
    _OUTBOX.c.id == bindparam("b_id")).values(
    status="sent", sent_at=bindparam("b_at"), message_id=bindparam("b_mid"),
    lease_until=None, params=bindparam("b_params")))
_LINKS = cast(Table, RelayLink.__table__)
_LINK_SENT = hot.HotStatement(lambda _: update(_LINKS).where(
    _LINKS.c.id == bindparam("b_id")).values(staff_message_id=bindparam("b_mid")))
_ADD_SENT = hot.HotStatement(lambda _: insert(_SENT), keys=("chat_id", "message_id", "sent_at"))


async def record_sent_many(s: AsyncSession,
                           sent: Sequence[tuple[OutboxRow, int | None, datetime]]) -> None:
    """:func:`record_sent` for many rows in few statements (the sender's group commit)."""
    if not sent:
        return
    # The text of a delivered message is not kept (a copy's ids are, for /forget).
    marks = [(now, mid, None if row.params and "text" in row.params else row.params, row.id)
             for row, mid, now in sent]
    links = [(mid, int(row.meta["relay_link"])) for row, mid, _ in sent
             if row.meta and row.meta.get("relay_link") is not None and mid is not None]
    messages = [(row.chat_id, mid, now) for row, mid, now in sent
                if mid is not None and row.chat_id is not None and row.chat_id > 0]
    await hot.execute(s, _MARK_SENT, [{"b_at": at, "b_mid": mid, "b_params": params,
                                       "b_id": rid} for at, mid, params, rid in marks])
    await hot.execute(s, _LINK_SENT, [{"b_mid": mid, "b_id": link_id} for mid, link_id in links])
    await hot.execute(s, _ADD_SENT, [{"chat_id": c, "message_id": m, "sent_at": at}
                                     for c, m, at in messages])


async def mark_retry(db: Database, row: OutboxRow, delay: float, error: str, now: datetime) -> None:
    async with db.tx() as s:
        await s.execute(
            update(OutboxRow)
            .where(OutboxRow.id == row.id)
            .values(attempts=OutboxRow.attempts + 1, error=error[:200], lease_until=None,
                    not_before=now + timedelta(seconds=delay))
        )


async def mark_dead(db: Database, row: OutboxRow, error: str, now: datetime) -> None:
    """Give up on a row (e.g. Telegram says the message cannot exist); the chat moves on."""
    async with db.tx() as s:
        await s.execute(
            update(OutboxRow)
            .where(OutboxRow.id == row.id)
            .values(status="dead", error=error[:200], lease_until=None, sent_at=now, params=None)
        )


async def drop_pending_for_chat(session: AsyncSession, chat_id: int) -> None:
    """A parent blocked the bot or asked to be forgotten: nothing more goes to that chat."""
    await session.execute(
        update(OutboxRow)
        .where(OutboxRow.chat_id == chat_id, OutboxRow.status == "pending")
        .values(status="dead", error="chat closed", params=None)
    )


async def purge_delivered(session: AsyncSession, older_than: datetime) -> int:
    res = await session.execute(
        delete(OutboxRow).where(
            OutboxRow.status.in_(("sent", "dead")), OutboxRow.created_at < older_than
        )
    )
    await session.execute(delete(SentMessage).where(SentMessage.sent_at < older_than))
    return int(getattr(res, "rowcount", 0) or 0)


async def pending_count(session: AsyncSession) -> int:
    return int((await session.execute(
        select(func.count()).select_from(OutboxRow).where(OutboxRow.status == "pending")
    )).scalar_one())


async def pending_in_chat(session: AsyncSession, chat_id: int) -> bool:
    """Whether anything is still to be sent (or being sent) to ``chat_id``."""
    return (await session.scalar(
        select(OutboxRow.id).where(OutboxRow.chat_id == chat_id, OutboxRow.status == "pending")
        .limit(1)
    )) is not None


async def recent_sent_ids(session: AsyncSession, chat_id: int, since: datetime) -> Sequence[int]:
    rows = await session.scalars(
        select(SentMessage.message_id).where(
            and_(SentMessage.chat_id == chat_id, SentMessage.sent_at >= since)
        )
    )
    return list(rows)
