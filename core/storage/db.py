"""Engine and transactions, the same on SQLite (embedded default) and PostgreSQL.

SQLite allows one writer at a time. Rather than let concurrent transactions fail with
"database is locked", a process-wide lock serialises write transactions on SQLite
(readers are never blocked thanks to WAL). On PostgreSQL there is no such lock: row
locks and conditional updates keep replicas honest.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from core.storage.inline_sqlite import inline_creator


def upsert_insert(sqlite: bool) -> Any:
    """The backend's ``insert`` (SQLite's and PostgreSQL's ON CONFLICT clauses differ)."""
    return sqlite_insert if sqlite else pg_insert


class PerBackend:
    """A statement built once for each backend, picked by the session it runs in.

    Building a statement costs more than running it, so statements run often are built
    at import; ``build`` receives the backend's ``insert`` (ON CONFLICT clauses differ).
    The hottest ones are :class:`core.storage.hot.HotStatement` instead.
    """

    def __init__(self, build: Callable[[Any], Any]) -> None:
        self._sqlite = build(sqlite_insert)
        self._postgresql = build(pg_insert)

    def of(self, session: AsyncSession) -> Any:
        bind = session.bind
        return self._sqlite if bind is None or bind.dialect.name == "sqlite" else self._postgresql


def normalize_url(url: str) -> str:
    """Accept the URLs people paste (``postgresql://``, ``sqlite:///``) and pick async drivers."""
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg"):
        u = u.set(drivername="postgresql+asyncpg")
    elif u.drivername == "sqlite":
        u = u.set(drivername="sqlite+aiosqlite")
    return u.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


AUTOCHECKPOINT_PAGES = 10_000


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    # The line checkpoints the WAL from a thread (``Database.checkpoint``); SQLite's own
    # automatic checkpoint, run inside a commit, would stall the event loop while it copies
    # pages and syncs the file. It stays as a bound (40 MB) if nobody else checkpoints.
    cur.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
    cur.close()


class Database:
    """An engine, a session factory and the write discipline for its backend."""

    def __init__(self, url: str, *, echo: bool = False, schema: str | None = None,
                 sqlite_inline: bool = True) -> None:
        """``schema`` (PostgreSQL only) puts every table in that schema: tests use one each.

        ``sqlite_inline`` runs SQLite calls on the event loop (``core.storage.inline_sqlite``)
        instead of aiosqlite's thread; long read-only scans still go through the thread
        (:meth:`reports`).
        """
        self.url = normalize_url(url)
        self.sqlite = is_sqlite(self.url)
        self.schema = schema
        kwargs: dict[str, Any] = {"echo": echo}
        if self.sqlite:
            db_path = make_url(self.url).database
            if db_path and db_path != ":memory:":
                Path(db_path).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": 10}
        else:
            kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
            if schema:
                kwargs["connect_args"] = {"server_settings": {"search_path": schema}}
        self.engine: AsyncEngine
        self.report_engine: AsyncEngine
        if self.sqlite:
            threaded = create_async_engine(self.url, **kwargs)
            event.listen(threaded.sync_engine, "connect", _sqlite_pragmas)
            self.report_engine = threaded
            if sqlite_inline and db_path and db_path != ":memory:":
                self.engine = create_async_engine(
                    self.url, echo=echo, async_creator=inline_creator(db_path, 10.0)
                )
                event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            else:
                self.engine = threaded
        else:
            self.engine = self.report_engine = create_async_engine(self.url, **kwargs)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._report_sessions = async_sessionmaker(self.report_engine, expire_on_commit=False)
        self._write_lock = asyncio.Lock() if self.sqlite else None

    @asynccontextmanager
    async def tx(self) -> AsyncIterator[AsyncSession]:
        """One write transaction: commit on success, roll back on any exception."""
        if self._write_lock is not None:
            async with self._write_lock, self.sessions() as session, session.begin():
                yield session
        else:
            async with self.sessions() as session, session.begin():
                yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only session (never takes the SQLite write lock)."""
        async with self.sessions() as session:
            yield session

    @asynccontextmanager
    async def reports(self) -> AsyncIterator[AsyncSession]:
        """A read-only session for long scans (dashboard, export): off the event loop."""
        async with self._report_sessions() as session:
            yield session

    async def checkpoint(self) -> tuple[int, int, int] | None:
        """Copy the SQLite WAL into the database file, off the event loop.

        A PASSIVE checkpoint waits for no reader or writer, and runs in a thread, where
        sqlite3 lets go of the GIL: the line keeps answering while pages are copied and
        the file is synced. Returns SQLite's ``(busy, wal frames, frames checkpointed)``;
        None on PostgreSQL or in memory.
        """
        path = make_url(self.url).database if self.sqlite else None
        if not path or path == ":memory:":
            return None

        def run() -> tuple[int, int, int]:
            con = sqlite3.connect(path, timeout=1.0)
            try:
                row = con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                return int(row[0]), int(row[1]), int(row[2])
            finally:
                con.close()

        return await asyncio.to_thread(run)

    async def ensure_schema(self) -> None:
        """Create the PostgreSQL schema named at construction (no-op elsewhere)."""
        if self.schema and not self.sqlite:
            async with self.engine.begin() as conn:
                await conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')

    async def drop_schema(self) -> None:
        """Drop the schema named at construction (tests clean up after themselves)."""
        if self.schema and not self.sqlite:
            async with self.engine.begin() as conn:
                await conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.report_engine is not self.engine:
            await self.report_engine.dispose()
