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
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from bot.app.ratelimit import LocalRateLimiter
from bot.telegram.client import Outcome
from core.storage import outbox
from core.storage.db import Database
from core.storage.inbox import enqueue_internal
from core.storage.models import OutboxRow

log = logging.getLogger(__name__)

COALESCE_SECONDS = 0.003

# How long to keep retrying a call that fails, and how fast. While Telegram delivers most
# other calls, a failure is a glitch of that one call: it is retried within a few seconds,
# because a chat's later messages wait behind it (a parent's reply held back a minute by
# one unlucky retry schedule is a reply a minute late). When most recent calls fail,
# Telegram (or the network) is down: retries back off exponentially, to 30 s at most, so
# the line does not hammer it, and resume within 30 s once it is back. Either way a
# message is given up only after half an hour of failing. Telegram's own retry_after is
# honoured as is.
MAX_BACKOFF = 30.0
GLITCH_EXPONENT = 2  # an isolated failure waits backoff(2) at most: 1-3 s
GIVE_UP_AFTER = timedelta(minutes=30)
MIN_ATTEMPTS = 12  # ...and never before this many tries, however long the outage was
HEALTH_WINDOW = 40  # recent calls that decide "most calls fail"
LEASE_SECONDS = 20.0  # a replica that died mid-send frees its rows this soon


class Limiter(Protocol):
    async def acquire(self, chat_id: int | None) -> None: ...
    def penalize(self, chat_id: int | None, seconds: float) -> None: ...


Caller = Callable[[int | None, str, dict[str, Any]], Awaitable[Outcome]]
Sent = tuple[OutboxRow, int | None, datetime]


def backoff(attempt: int) -> float:
    """Exponential backoff with jitter, capped at :data:`MAX_BACKOFF`."""
    return float(min(MAX_BACKOFF, (2 ** min(attempt, 8)) * 0.5 * (0.5 + random.random())))


class CallHealth:
    """Whether most recent calls to Telegram failed (then it is down, not glitching)."""

    def __init__(self, window: int = HEALTH_WINDOW) -> None:
        self._recent: deque[bool] = deque(maxlen=window)
        self._failed = 0

    def record(self, ok: bool) -> None:
        if len(self._recent) == self._recent.maxlen and not self._recent[0]:
            self._failed -= 1
        self._recent.append(ok)
        self._failed += not ok

    def mostly_failing(self) -> bool:
        return self._failed * 2 > len(self._recent)

    def retry_delay(self, attempts: int) -> float:
        """Backoff for a call that has failed ``attempts`` times before this failure."""
        return backoff(attempts if self.mostly_failing() else min(attempts, GLITCH_EXPONENT))


def give_up(row: OutboxRow, now: datetime) -> bool:
    """After this failure: has the row been failing long enough to stop trying?"""
    return row.attempts + 1 >= MIN_ATTEMPTS and now - row.created_at >= GIVE_UP_AFTER


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
        self._items: list[tuple[Sent, asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None

    async def record_sent(self, row: OutboxRow, message_id: int | None, now: datetime) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._items.append(((row, message_id, now), fut))
        if self._task is None:
            self._task = asyncio.create_task(self._flush())
        await fut

    async def _flush(self) -> None:
        await asyncio.sleep(self.window)
        items, self._items, self._task = self._items, [], None
        try:
            async with self.db.tx() as s:
                await outbox.record_sent_many(s, [sent for sent, _ in items])
        except Exception:
            for sent, fut in items:  # one bad row must not lose the others
                try:
                    async with self.db.tx() as s:
                        await outbox.record_sent(s, *sent)
                    fut.set_result(None)
                except Exception as exc:
                    fut.set_exception(exc)
            return
        for _, fut in items:
            fut.set_result(None)


def _key(row: OutboxRow) -> int:
    """What must not have two rows in flight: the chat (rows for no chat are each alone)."""
    return row.chat_id if row.chat_id is not None else -(10**15) - row.id


class Sender:
    """Runs until stopped; many rows in flight, never two for the same chat.

    Two bounds, because most of a row's time in flight is spent waiting for its chat's
    next slot (Telegram allows about one message a second per chat): ``chats`` rows may
    be in flight at once, and of those only ``concurrency`` may be talking to Telegram.
    If waiting for a slot held a call slot, a few busy specialist chats would cap the
    whole line at ``concurrency`` messages a second and every other chat would queue.
    """

    def __init__(self, db: Database, call: Caller, limiter: Limiter | None = None, *,
                 owner: str = "sender", concurrency: int = 16, chats: int = 128,
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
        self.chats = max(chats, concurrency)
        self._calls = asyncio.Semaphore(concurrency)
        self.wake = asyncio.Event()
        self._busy: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        # Per chat in flight: whether more rows may be waiting behind it (then its
        # completion wakes the poll). Unknown means yes.
        self._more: dict[int, bool] = {}
        # Rows finished lately: a query that read a row just before it was marked sent
        # must not start it again.
        self._finished: dict[int, None] = {}
        self.health = CallHealth()
        self.sent = 0
        #: Calls Telegram refused only because their window had passed, by method
        #: (``parentline_telegram_too_late_total`` on /metrics).
        self.too_late: dict[str, int] = {}

    def stop(self) -> None:
        self._stopping = True
        self.wake.set()

    async def run(self) -> None:
        while not self._stopping:
            await asyncio.sleep(COALESCE_SECONDS)  # one query serves every wake-up meanwhile
            self.wake.clear()
            try:
                await self._pick()
            except Exception:
                log.exception("outbox: could not read pending rows")
            # Rows just started wake the poll when they finish (their chat may have more),
            # so there is nothing to look for until a wake-up, or the periodic look.
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=0.25)
            except TimeoutError:
                pass
        await self.drain()

    async def drain(self, timeout: float = 5.0) -> None:
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=timeout)

    async def _pick(self) -> None:
        room = self.chats - len(self._tasks)
        if room <= 0:
            return
        now = datetime.now(UTC)
        rows = await outbox.due_rows(self.db, now, room, self._busy)
        for row in rows:
            key = _key(row)
            if key in self._busy or row.id in self._finished:
                continue
            self._start(row, key)

    def offer(self, rows: Sequence[OutboxRow]) -> None:
        """Every pending row of some chats, oldest first, as committed a moment ago.

        The processor hands these over right after its commit (one process on SQLite),
        so a reply starts without a query; a chat's head row starts if nothing of that
        chat is in flight and it is not waiting out a retry. Anything not started here
        is found by the poll, which a completion wakes when more may be waiting.
        """
        heads: dict[int, OutboxRow] = {}
        behind: set[int] = set()
        for row in rows:
            key = _key(row)
            if key in heads:
                behind.add(key)
            else:
                heads[key] = row
        poll = False
        for key, row in heads.items():
            if key in self._busy:
                self._more[key] = True
            elif row.id in self._finished or row.attempts > 0 or (
                    len(self._tasks) >= self.chats):
                poll = True
            else:
                self._start(row, key, more=key in behind)
        if poll:
            self.wake.set()

    def _start(self, row: OutboxRow, key: int, *, more: bool = True) -> None:
        self._busy.add(key)
        self._more[key] = more
        task = asyncio.create_task(self._deliver(row, key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _finish(self, row_id: int) -> None:
        self._finished[row_id] = None
        if len(self._finished) > 4096:
            del self._finished[next(iter(self._finished))]

    async def _deliver(self, row: OutboxRow, key: int) -> None:
        try:
            now = datetime.now(UTC)
            if self.leases and not await outbox.lease(self.db, row.id, self.owner, now,
                                                      LEASE_SECONDS):
                return
            await self.limiter.acquire(row.chat_id)
            async with self._calls:
                result = await self.call(row.chat_id, row.method, row.params or {})
            now = datetime.now(UTC)
            self.health.record(result.verdict != "retry")
            if result.verdict == "sent":
                mid = result.message_id
                await self.commits.record_sent(row, mid, now)
                self._finish(row.id)
                self.sent += 1
            elif result.verdict == "retry":
                delay = (result.retry_after if result.retry_after is not None
                         else self.health.retry_delay(row.attempts))
                if result.retry_after is not None:
                    self.limiter.penalize(row.chat_id, result.retry_after)
                if give_up(row, now):
                    log.error("outbox row %s: giving up after %s attempts (%s)", row.id,
                              row.attempts + 1, result.error)
                    await outbox.mark_dead(self.db, row, result.error, now)
                    self._finish(row.id)
                else:
                    await outbox.mark_retry(self.db, row, delay, result.error, now)
            elif result.verdict == "gone":
                await self._gone(row, now)
            elif result.verdict == "late":
                # Final and expected: the press was answered too late (the line was down or
                # behind; the press itself was still handled) or the message is too old to
                # delete. Not retried, nothing waits for it; counted, and said quietly.
                self.too_late[row.method] = self.too_late.get(row.method, 0) + 1
                log.info("outbox row %s (%s): too late for Telegram, not retried", row.id,
                         row.method)
                await outbox.mark_dead(self.db, row, result.error, now)
                self._finish(row.id)
            else:
                log.warning("outbox row %s (%s) refused by Telegram: %s", row.id, row.method,
                            result.error)
                await outbox.mark_dead(self.db, row, result.error, now)
                self._finish(row.id)
        except Exception:
            log.exception("outbox row %s: delivery failed unexpectedly", row.id)
        finally:
            self._busy.discard(key)
            if self._more.pop(key, True):
                self.wake.set()

    async def _gone(self, row: OutboxRow, now: datetime) -> None:
        """403: the person blocked the bot. Stop sending there and let the domain react."""
        await outbox.mark_dead(self.db, row, "403 blocked", now)
        self._finish(row.id)
        if row.chat_id is None:
            return
        async with self.db.tx() as s:
            await outbox.drop_pending_for_chat(s, row.chat_id)
            await enqueue_internal(
                s, self.db.sqlite, f"gone:{row.chat_id}:{row.id}", row.chat_id,
                {"job": "delivery_failed", "chat_id": row.chat_id}, now,
            )
