"""The busiest statements of the line, with one source of SQL and the fastest way to run it.

Every poll, every batch and every group of deliveries runs the same handful of small
statements: store the updates and the polling offset, read the pending rows and the
roster's ids, queue the replies, count, mark rows processed, record what was sent.
Through SQLAlchemy's async session each of them costs 50-200 µs of CPU; on the sqlite3
connection underneath, the same statement costs about 5 µs. At 200 messages a second
that difference was a fifth of the line's CPU (``docs/performance.md``).

So each of these statements is written once, as a SQLAlchemy Core statement
(:class:`HotStatement`), and run by :func:`execute`, :func:`rows` or :func:`insert_new`:

- on the embedded default (SQLite run on the event loop by ``core.storage.inline_sqlite``)
  it is compiled by SQLAlchemy once per shape (the length of its ``IN`` lists) and run on
  the sqlite3 connection *inside the session's own transaction*: the same connection, the
  same commit or rollback, every value converted by the very SQLAlchemy type its column
  declares, so a timestamp or a JSON document is stored as the ORM stores it;
- everywhere else (PostgreSQL, SQLite through aiosqlite's thread) the same statement goes
  through the session.

Nothing outside this module touches the sqlite3 connection; ``tests/storage/
test_hot_statements.py`` runs every statement on all three backends and compares.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.compiler import SQLCompiler

from core.storage.inline_sqlite import InlineConnection

_DIALECT = sqlite.dialect(paramstyle="qmark")
# Compiled forms kept per statement: one per length of its IN lists, which a batch keeps
# within its size; past this many (a caller with unusual lists) the oldest are dropped.
_MAX_PLANS = 128

Params = Mapping[str, Any]
Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Plan:
    """One compiled shape: the SQL text, and how to turn named values into its arguments."""

    sql: str
    # Per ``?``, in order: (parameter name, index in its IN list or -1, fixed value, type
    # processor). A value written into the statement itself (``status='sent'``) has no
    # parameter name and is fixed at compile time, converted already.
    slots: tuple[tuple[str | None, int, Any, Processor], ...]

    def args(self, params: Params) -> tuple[Any, ...]:
        out = []
        for name, index, fixed, process in self.slots:
            if name is None:
                out.append(fixed)
                continue
            value = params[name] if index < 0 else params[name][index]
            out.append(process(value) if process is not None else value)
        return tuple(out)


class HotStatement:
    """A statement on the line's hot path, built once for each backend.

    ``build`` receives the backend's ``insert`` (SQLite's and PostgreSQL's ON CONFLICT
    clauses differ; statements that insert nothing ignore it). ``keys`` are the columns an
    INSERT takes from its parameters. ``count_by`` is a column whose RETURNING counts the
    new rows where the driver reports no row count for many rows (asyncpg).
    """

    def __init__(self, build: Callable[[Any], Any], *, keys: Sequence[str] = (),
                 count_by: ColumnElement[Any] | None = None) -> None:
        self._sqlite: Any = build(sqlite_insert)
        self._postgresql: Any = build(pg_insert)
        self._keys = list(keys) or None
        if count_by is not None:
            self._sqlite_counted = self._sqlite.returning(count_by)
            self._postgresql_counted = self._postgresql.returning(count_by)
        compiled = self._sqlite.compile(dialect=_DIALECT, column_keys=self._keys)
        assert isinstance(compiled, SQLCompiler)
        self._compiled = compiled
        self._expanding = tuple(bp.key for bp in compiled.binds.values() if bp.expanding)
        self._results: tuple[Processor, ...] = tuple(
            col.type.dialect_impl(_DIALECT).result_processor(_DIALECT, None)
            for col in getattr(self._sqlite, "selected_columns", ()))
        self._plans: dict[tuple[int, ...], _Plan] = {}

    def of(self, session: AsyncSession, *, counted: bool = False) -> Any:
        """The statement for ``session``'s backend (``counted``: with RETURNING)."""
        bind = session.bind
        on_sqlite = bind is None or bind.dialect.name == "sqlite"
        if counted:
            return self._sqlite_counted if on_sqlite else self._postgresql_counted
        return self._sqlite if on_sqlite else self._postgresql

    def plan(self, params: Params) -> _Plan:
        """The compiled SQL and argument order for ``params``' shape (built on first use)."""
        shape = tuple(len(params[name]) for name in self._expanding)
        plan = self._plans.get(shape)
        if plan is None:
            plan = self._build_plan(params)
            if len(self._plans) >= _MAX_PLANS:
                self._plans.pop(next(iter(self._plans)))
            self._plans[shape] = plan
        return plan

    def _build_plan(self, params: Params) -> _Plan:
        state = self._compiled.construct_expanded_state(dict(params))
        where_from: dict[str, tuple[str, int]] = {}
        for name, expanded in (state.parameter_expansion or {}).items():
            for i, one in enumerate(expanded):
                where_from[one] = (name, i)
        processors: dict[str, Any] = dict(self._compiled._bind_processors)
        processors.update(state.processors or {})
        slots: list[tuple[str | None, int, Any, Processor]] = []
        for position in state.positiontup or ():
            process = processors.get(position)
            if position in where_from:
                name, index = where_from[position]
                slots.append((name, index, None, process))
            elif position in params:
                slots.append((position, -1, None, process))
            else:  # written into the statement: the same value every time
                fixed = state.parameters[position]
                slots.append((None, -1, process(fixed) if process is not None else fixed,
                              None))
        return _Plan(state.statement, tuple(slots))

    def result_row(self, row: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(p(v) if p is not None else v
                     for p, v in zip(self._results, row, strict=True))


async def _inline(session: AsyncSession) -> sqlite3.Connection | None:
    """The sqlite3 connection under ``session`` when it runs inline on this loop, else
    None (PostgreSQL, or SQLite through aiosqlite's thread)."""
    bind = session.bind
    if bind is None or bind.dialect.name != "sqlite":
        return None
    conn = await session.connection()
    driver = conn.sync_connection.connection.driver_connection  # type: ignore[union-attr]
    if not isinstance(driver, InlineConnection) or driver._connection is None:
        return None
    return driver._connection


async def execute(session: AsyncSession, stmt: HotStatement,
                  params: Params | Sequence[Params]) -> None:
    """Run ``stmt`` once (a mapping) or once per mapping (a sequence), in the session's
    transaction."""
    if not isinstance(params, Mapping) and not params:
        return
    raw = await _inline(session)
    if raw is None:
        await session.execute(stmt.of(session), params)
    elif isinstance(params, Mapping):
        plan = stmt.plan(params)
        raw.execute(plan.sql, plan.args(params))
    else:
        plan = stmt.plan(params[0])
        raw.executemany(plan.sql, [plan.args(p) for p in params])


async def rows(session: AsyncSession, stmt: HotStatement, params: Params | None = None
               ) -> list[tuple[Any, ...]]:
    """The rows a SELECT returns, as plain tuples with the columns' own Python values."""
    values = params or {}
    raw = await _inline(session)
    if raw is None:
        return [tuple(r) for r in await session.execute(stmt.of(session), values)]
    plan = stmt.plan(values)
    return [stmt.result_row(r) for r in raw.execute(plan.sql, plan.args(values))]


async def insert_new(session: AsyncSession, stmt: HotStatement, params: Sequence[Params]
                     ) -> int:
    """Run an INSERT that skips conflicting rows; returns how many rows were new."""
    if not params:
        return 0
    raw = await _inline(session)
    if raw is None:
        return len((await session.execute(stmt.of(session, counted=True), params)).all())
    plan = stmt.plan(params[0])
    before = raw.total_changes
    raw.executemany(plan.sql, [plan.args(p) for p in params])
    return raw.total_changes - before


async def runs_inline(session: AsyncSession) -> bool:
    """Whether hot statements in ``session`` run on the inline sqlite3 connection."""
    return await _inline(session) is not None
