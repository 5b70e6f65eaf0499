"""The busiest bookkeeping statements, on SQLite, straight through sqlite3.

Every poll, every batch and every group of deliveries runs the same handful of small
statements: store the updates and the polling offset, read the pending rows and the
roster's ids, queue the replies, count, mark rows processed, record what was sent.
Through SQLAlchemy's async session each of them costs 50–200 µs of CPU; on the sqlite3
connection underneath, the same statement costs about 5 µs. At 200 messages a second
that difference was a fifth of the line's CPU (``docs/performance.md``).

So, for the embedded default only (one process, SQLite run on the event loop by
``core.storage.inline_sqlite``), these statements go to sqlite3 directly, *inside the
session's own transaction*: the same connection, the same commit or rollback. Values are
converted by the very SQLAlchemy types the tables declare (so a timestamp or a JSON
document is stored byte for byte as the ORM would store it and reads back the same).
Everything else, and every statement on PostgreSQL, goes through SQLAlchemy as before;
the callers keep both paths and ``tests/storage`` runs both.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from core.storage.inline_sqlite import InlineConnection
from core.storage.models import UTCDateTime

_DIALECT = sqlite.dialect()


def _processor(type_: Any) -> Callable[[Any], Any]:
    """What SQLAlchemy itself does to a value of ``type_`` on its way into SQLite."""
    process = type_.dialect_impl(_DIALECT).bind_processor(_DIALECT)
    return process if process is not None else (lambda value: value)


_datetime = _processor(UTCDateTime())
_json = _processor(JSON())
_date = _processor(Date())
_json_result = JSON().dialect_impl(_DIALECT).result_processor(_DIALECT, None)
_datetime_result = UTCDateTime().dialect_impl(_DIALECT).result_processor(_DIALECT, None)


def loaded_json(value: Any) -> Any:
    return _json_result(value) if _json_result is not None else value


def loaded_datetime(value: Any) -> Any:
    return _datetime_result(value) if _datetime_result is not None else value


async def connection(session: AsyncSession) -> sqlite3.Connection | None:
    """The sqlite3 connection under ``session`` when it runs inline on this loop, else
    None (PostgreSQL, or SQLite through aiosqlite's thread): then use SQLAlchemy."""
    bind = session.bind
    if bind is None or bind.dialect.name != "sqlite":
        return None
    conn = await session.connection()
    driver = conn.sync_connection.connection.driver_connection  # type: ignore[union-attr]
    if not isinstance(driver, InlineConnection) or driver._connection is None:
        return None
    return driver._connection


# --- the statements ----------------------------------------------------------------------

def store_updates(raw: sqlite3.Connection, rows: Sequence[dict[str, Any]]) -> int:
    """New inbox rows (duplicates of ``dedupe_key`` ignored); returns how many were new."""
    before = raw.total_changes
    raw.executemany(
        "INSERT INTO inbox (dedupe_key, chat_id, seq, payload, received_at, attempts) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING",
        [(r["dedupe_key"], r["chat_id"], r["seq"], _json(r["payload"]),
          _datetime(r["received_at"]), r["attempts"]) for r in rows])
    return raw.total_changes - before


def save_offset(raw: sqlite3.Connection, key: str, offset: int) -> None:
    """Move the polling offset forward, never back."""
    raw.execute(
        "INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE "
        "SET value = excluded.value WHERE CAST(kv.value AS BIGINT) < ?",
        (key, str(offset), offset))


def pending_inbox(raw: sqlite3.Connection, limit: int, exclude: Iterable[int],
                  settled_before: datetime | None) -> list[tuple[int, int, Any]]:
    """``(id, chat_id, payload)`` of the oldest unprocessed rows, as ``inbox.pending_rows``."""
    excl = list(exclude)
    sql = ["SELECT id, chat_id, payload FROM inbox WHERE processed_at IS NULL"]
    args: list[Any] = []
    if excl:
        sql.append(f"AND chat_id NOT IN ({','.join('?' * len(excl))})")
        args += excl
    if settled_before is not None:
        sql.append("AND received_at <= ?")
        args.append(_datetime(settled_before))
    sql.append("ORDER BY seq IS NULL, seq, id LIMIT ?")
    args.append(limit)
    return [(r[0], r[1], loaded_json(r[2])) for r in raw.execute(" ".join(sql), args)]


OUTBOX_COLUMNS = ("id", "chat_id", "method", "params", "meta", "created_at", "not_before",
                  "attempts", "status")


def pending_outbox(raw: sqlite3.Connection, chats: Sequence[int], no_chat: bool
                   ) -> list[dict[str, Any]]:
    """Every pending outbox row of ``chats`` (and of no chat, if ``no_chat``), oldest
    first, as ``outbox.pending_rows_of``: column name -> value."""
    where = f"chat_id IN ({','.join('?' * len(chats))})" if chats else "0"
    if no_chat:
        where = f"({where} OR chat_id IS NULL)"
    cur = raw.execute(f"SELECT {', '.join(OUTBOX_COLUMNS)} FROM outbox "
                      f"WHERE status = 'pending' AND {where} ORDER BY id", list(chats))
    return [{"id": r[0], "chat_id": r[1], "method": r[2], "params": loaded_json(r[3]),
             "meta": loaded_json(r[4]), "created_at": loaded_datetime(r[5]),
             "not_before": loaded_datetime(r[6]), "attempts": r[7], "status": r[8]}
            for r in cur]


def mark_processed(raw: sqlite3.Connection, ids: Sequence[int], now: datetime) -> None:
    at = _datetime(now)
    raw.executemany("UPDATE inbox SET processed_at = ? WHERE id = ?", [(at, i) for i in ids])


def staff_ids(raw: sqlite3.Connection) -> frozenset[int]:
    return frozenset(r[0] for r in raw.execute("SELECT tg_user_id FROM staff"))


def add_outbox(raw: sqlite3.Connection, values: Sequence[dict[str, Any]]) -> None:
    raw.executemany(
        "INSERT INTO outbox (chat_id, method, params, meta, created_at, not_before, "
        "attempts, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(v["chat_id"], v["method"], _json(v["params"]), _json(v["meta"]),
          _datetime(v["created_at"]), _datetime(v["not_before"]), v["attempts"], v["status"])
         for v in values])


def add_counters(raw: sqlite3.Connection, counters: dict[tuple[date, str], int]) -> None:
    raw.executemany(
        "INSERT INTO daily_stats (day, metric, value) VALUES (?, ?, ?) "
        "ON CONFLICT (day, metric) DO UPDATE SET value = daily_stats.value + excluded.value",
        [(_date(d), metric, n) for (d, metric), n in sorted(counters.items())])


def record_sent(raw: sqlite3.Connection, outbox: Sequence[tuple[Any, ...]],
                links: Sequence[tuple[int, int]], messages: Sequence[tuple[int, int, datetime]]
                ) -> None:
    """Outbox rows sent (``(sent_at, message_id, params, id)``), relay links given their
    message id (``(message_id, link id)``), and the sent messages kept for /forget."""
    raw.executemany(
        "UPDATE outbox SET status = 'sent', sent_at = ?, message_id = ?, lease_until = NULL, "
        "params = ? WHERE id = ?",
        [(_datetime(at), mid, _json(params), row_id) for at, mid, params, row_id in outbox])
    if links:
        raw.executemany("UPDATE relay_links SET staff_message_id = ? WHERE id = ?", links)
    if messages:
        raw.executemany(
            "INSERT INTO sent_messages (chat_id, message_id, sent_at) VALUES (?, ?, ?)",
            [(chat, mid, _datetime(at)) for chat, mid, at in messages])
