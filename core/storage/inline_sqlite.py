"""aiosqlite without its thread: SQLite calls run on the event loop, where they are cheap.

aiosqlite hands every call (execute, fetch, commit, even reading a cursor's rows) to its
own thread and back. Measured here, that hand-off costs far more than the SQLite call it
wraps: a parent message takes about 160 such calls, and the hand-offs were most of the
bot's CPU time per message (``docs/performance.md``). In WAL mode with
``synchronous=NORMAL`` a commit does not wait for the disk, so a SQLite call on this
line's small rows takes microseconds; running it where it is awaited costs less than
the hop and keeps the same API, the same SQLAlchemy dialect and the same transactions.

What this gives up: a call blocks the loop while it runs. Inside one process write
transactions are already serialised by :class:`core.storage.db.Database`'s lock, so a
call only waits for SQLite's own lock when *another process* holds it (a CLI command,
a migration), up to ``busy_timeout``, and during SQLite's automatic WAL checkpoint
(every ~4 MB of writes, one fsync). Long read-only scans (the dashboard's charts) use
the threaded connection instead (``Database.reports``). ``sqlite_inline=False`` on
:class:`core.storage.db.Database` turns this off.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Generator
from functools import partial
from typing import Any

import aiosqlite


class _RunNow:
    """Stands in for aiosqlite's queue to its thread: runs each call as it is queued.

    SQLAlchemy's dialect puts one call (setting the isolation level) on that queue
    directly, so the queue has to exist and behave.
    """

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:
            if future is not None and not future.done():
                future.set_exception(exc)
            return
        if future is not None and not future.done():
            future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    """An ``aiosqlite.Connection`` whose calls run in the awaiting thread."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _RunNow()  # type: ignore[assignment]

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    async def _connect(self) -> InlineConnection:
        if self._connection is None:
            self._connection = self._connector()
        return self

    def __await__(self) -> Generator[Any, None, InlineConnection]:
        return self._connect().__await__()  # no thread to start

    def stop(self) -> asyncio.Future[Any] | None:
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        return None

    async def close(self) -> None:
        self.stop()


def inline_creator(path: str, timeout: float) -> Callable[[], Any]:
    """An ``async_creator`` for ``create_async_engine``: a new inline connection per call."""

    async def create() -> InlineConnection:
        connector = partial(sqlite3.connect, path, timeout=timeout, check_same_thread=False,
                            )
        return await InlineConnection(connector)

    return create
