"""Delivers the outbox: in order per chat, through the rate limiter, with retries.

A crash between Telegram's OK and our ``mark_sent`` commit means the row is sent again
after restart: at-least-once delivery. That duplicate is the only one possible; it is
rare (the window is one local commit) and harmless to read (the same words twice). The
fault tests count such duplicates and report them.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.app.ratelimit import LocalRateLimiter
from bot.storage import outbox
from bot.storage.db import Database
from bot.storage.inbox import enqueue_internal
from bot.storage.models import OutboxRow
from bot.telegram.client import Outcome

log = logging.getLogger(__name__)

COALESCE_SECONDS = 0.003

MAX_ATTEMPTS = 12
LEASE_SECONDS = 20.0  # a replica that died mid-send frees its rows this soon


class Limiter(Protocol):
    async def acquire(self, chat_id: int | None) -> None: ...
    def penalize(self, chat_id: int | None, seconds: float) -> None: ...


Caller = Callable[[int | None, str, dict[str, Any]], Awaitable[Outcome]]
Change = Callable[[AsyncSession], Awaitable[None]]


def backoff(attempt: int) -> float:
    """Exponential backoff with jitter, capped at five minutes."""
    return float(min(300.0, (2 ** min(attempt, 8)) * 0.5 * (0.5 + random.random())))


class GroupCommit:
    """Commits the bookkeeping of many deliveries in one transaction.

    Marking each delivered row in its own transaction would cost one SQLite write lock
    per message; waiting a few milliseconds and committing everything that finished in
    the meantime costs one. A caller returns only once its change is committed, so a
    chat's next row is never picked before this one is marked sent.
    """

    def __init__(self, db: Database, window: float = 0.005) -> None:
        self.db = db
        self.window = window
        self._items: list[tuple[Change, asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None

    async def run(self, change: Change) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._items.append((change, fut))
        if self._task is None:
            self._task = asyncio.create_task(self._flush())
        await fut

    async def _flush(self) -> None:
        await asyncio.sleep(self.window)
        items, self._items, self._task = self._items, [], None
        try:
            async with self.db.tx() as s:
                for change, _ in items:
                    await change(s)
        except Exception:
            for change, fut in items:  # one bad change must not lose the others
                try:
                    async with self.db.tx() as s:
                        await change(s)
                    fut.set_result(None)
                except Exception as exc:
                    fut.set_exception(exc)
            return
        for _, fut in items:
            fut.set_result(None)


class Sender:
    """Runs until stopped; many rows in flight, never two for the same chat."""

    def __init__(self, db: Database, call: Caller, limiter: Limiter | None = None, *,
                 owner: str = "sender", concurrency: int = 16,
                 leases: bool | None = None) -> None:
        self.db = db
        # With one process on SQLite the in-memory busy set is the lease; replicas on
        # PostgreSQL lease rows in the database.
        self.leases = (not db.sqlite) if leases is None else leases
        self.commits = GroupCommit(db)
        self.call = call
        self.limiter: Limiter = limiter or LocalRateLimiter()
        self.owner = owner
        self.concurrency = concurrency
        self.wake = asyncio.Event()
        self._busy: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        self.sent = 0

    def stop(self) -> None:
        self._stopping = True
        self.wake.set()

    async def run(self) -> None:
        while not self._stopping:
            await asyncio.sleep(COALESCE_SECONDS)  # one query serves every wake-up meanwhile
            self.wake.clear()
            try:
                picked = await self._pick()
            except Exception:
                log.exception("outbox: could not read pending rows")
                picked = 0
            if picked == 0 or len(self._tasks) >= self.concurrency:
                try:
                    await asyncio.wait_for(self.wake.wait(), timeout=0.25)
                except TimeoutError:
                    pass
        await self.drain()

    async def drain(self, timeout: float = 5.0) -> None:
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=timeout)

    async def _pick(self) -> int:
        room = self.concurrency - len(self._tasks)
        if room <= 0:
            return 0
        now = datetime.now(UTC)
        rows = await outbox.due_rows(self.db, now, room, self._busy)
        for row in rows:
            key = row.chat_id if row.chat_id is not None else -(10**15) - row.id
            if key in self._busy:
                continue
            self._busy.add(key)
            task = asyncio.create_task(self._deliver(row, key))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(rows)

    async def _deliver(self, row: OutboxRow, key: int) -> None:
        try:
            now = datetime.now(UTC)
            if self.leases and not await outbox.lease(self.db, row.id, self.owner, now,
                                                      LEASE_SECONDS):
                return
            await self.limiter.acquire(row.chat_id)
            result = await self.call(row.chat_id, row.method, row.params or {})
            now = datetime.now(UTC)
            if result.verdict == "sent":
                mid = result.message_id
                await self.commits.run(lambda s: outbox.record_sent(s, row, mid, now))
                self.sent += 1
            elif result.verdict == "retry":
                delay = (result.retry_after if result.retry_after is not None
                         else backoff(row.attempts))
                if result.retry_after is not None:
                    self.limiter.penalize(row.chat_id, result.retry_after)
                if row.attempts + 1 >= MAX_ATTEMPTS:
                    log.error("outbox row %s: giving up after %s attempts (%s)", row.id,
                              row.attempts + 1, result.error)
                    await outbox.mark_dead(self.db, row, result.error, now)
                else:
                    await outbox.mark_retry(self.db, row, delay, result.error, now)
            elif result.verdict == "gone":
                await self._gone(row, now)
            else:
                log.warning("outbox row %s (%s) refused by Telegram: %s", row.id, row.method,
                            result.error)
                await outbox.mark_dead(self.db, row, result.error, now)
        except Exception:
            log.exception("outbox row %s: delivery failed unexpectedly", row.id)
        finally:
            self._busy.discard(key)
            self.wake.set()

    async def _gone(self, row: OutboxRow, now: datetime) -> None:
        """403: the person blocked the bot. Stop sending there and let the domain react."""
        await outbox.mark_dead(self.db, row, "403 blocked", now)
        if row.chat_id is None:
            return
        async with self.db.tx() as s:
            await outbox.drop_pending_for_chat(s, row.chat_id)
            await enqueue_internal(
                s, self.db.sqlite, f"gone:{row.chat_id}:{row.id}", row.chat_id,
                {"job": "delivery_failed", "chat_id": row.chat_id}, now,
            )
