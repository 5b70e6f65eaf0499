"""Inbox workers: each chat strictly in order, different chats concurrently.

A worker leases a chat, processes its pending rows oldest first (one transaction per
row), and lets the chat go. In one process the lease is an in-memory set; with several
replicas on PostgreSQL it is also a row in ``chat_leases`` taken by one atomic upsert.

With one process on SQLite, where every write transaction waits for the same lock
anyway, the workers first try the cheaper way: the oldest pending rows of many chats in
one transaction (``batch``). A batch in which any row fails is rolled back whole, and
its chats go the per-chat way above, with its retries and last-resort fallback.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Awaitable, Callable, Collection
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Protocol

from bot.app.processor import BatchFailed, RowByRow
from core.context import NotReadyYet
from core.storage import inbox
from core.storage.db import Database
from core.storage.models import InboxRow

log = logging.getLogger(__name__)

COALESCE_SECONDS = 0.003

LEASE_SECONDS = 30.0
GIVE_UP_AFTER = 3
NOT_READY_RETRIES = 30  # x 0.2 s: how long a chat waits for a relay link in flight

class RowHandler(Protocol):
    """Processes one row id in its own transaction."""

    def __call__(self, row_id: int, *, may_wait: bool = True) -> Awaitable[None]: ...
FailureHandler = Callable[[InboxRow], Awaitable[None]]  # last resort after GIVE_UP_AFTER


class BatchHandler(Protocol):
    """Processes up to ``limit`` pending rows in one transaction, stopping early once
    ``budget`` seconds are spent; returns how many it processed and whether rows may be
    left pending."""

    def __call__(self, limit: int, *, exclude: Collection[int] = (),
                 settled_before: datetime | None = None,
                 budget: float | None = None) -> Awaitable[tuple[int, bool]]: ...


BATCH_SIZE = 64
# How long one batch may hold the event loop before it commits what it has done. Small
# enough that a webhook delivery or a reply waits a few milliseconds, not a whole batch;
# large enough that a busy evening still shares one commit among several messages.
BATCH_BUDGET_SECONDS = 0.010


def replica_id() -> str:
    return f"{os.uname().nodename[:20]}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class InboxWorkers:
    """Pulls chats with pending rows and processes them, at most ``concurrency`` at once."""

    def __init__(self, db: Database, handle: RowHandler, on_give_up: FailureHandler, *,
                 concurrency: int = 8, owner: str | None = None,
                 shared_leases: bool | None = None, holdback: float = 0.0,
                 batch: BatchHandler | None = None) -> None:
        self.db = db
        self.handle = handle
        self.batch = batch
        self.on_give_up = on_give_up
        self.concurrency = concurrency
        self.owner = owner or replica_id()
        # Leases in the database are only needed when several processes share it.
        self.shared_leases = (not db.sqlite) if shared_leases is None else shared_leases
        self.holdback = timedelta(seconds=holdback)
        self.wake = asyncio.Event()
        self._active: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        self.processed = 0

    def stop(self) -> None:
        self._stopping = True
        self.wake.set()

    async def run(self) -> None:
        while not self._stopping:
            await asyncio.sleep(COALESCE_SECONDS)  # one query serves every wake-up meanwhile
            self.wake.clear()
            started = 0
            more = False
            try:
                if self.batch is not None and not self.shared_leases:
                    started, more = await self._batch()
                else:
                    started = await self._start_some()
                    more = started > 0
            except Exception:
                log.exception("inbox: could not read pending chats")
            if not more or len(self._tasks) >= self.concurrency:
                try:
                    await asyncio.wait_for(self.wake.wait(), timeout=0.2)
                except TimeoutError:
                    pass

    async def drain(self, timeout: float = 5.0) -> None:
        """Let in-flight chats finish their current row (used on SIGTERM)."""
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=timeout)

    async def _batch(self) -> tuple[int, bool]:
        """Rows (or chats) started, and whether to look again at once.

        A batch that was not full took every row pending when it started; rows stored
        since then have set ``wake``. Looking again at once would cost a transaction
        that finds nothing, after every batch. A rolled-back batch leaves its other rows
        pending, so it does look again.
        """
        assert self.batch is not None
        settled = datetime.now(UTC) - self.holdback if self.holdback else None
        try:
            n, more = await self.batch(BATCH_SIZE, exclude=self._active,
                                       settled_before=settled, budget=BATCH_BUDGET_SECONDS)
        except BatchFailed as failed:
            cause = failed.__cause__
            expected = isinstance(cause, NotReadyYet | RowByRow)
            level = logging.DEBUG if expected else logging.WARNING
            log.log(level, "inbox: a batch was rolled back (%s); its %d chats go row by row",
                    type(cause).__name__, len(failed.chat_ids))
            for chat_id in failed.chat_ids - self._active:
                self._start_chat(chat_id)
            return len(failed.chat_ids), True
        self.processed += n
        return n, more

    def _start_chat(self, chat_id: int) -> None:
        self._active.add(chat_id)
        task = asyncio.create_task(self._run_chat(chat_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _start_some(self) -> int:
        room = self.concurrency - len(self._tasks)
        if room <= 0:
            return 0
        settled = datetime.now(UTC) - self.holdback if self.holdback else None
        chats = await inbox.pending_chats(self.db, room, exclude=self._active,
                                          settled_before=settled)
        started = 0
        for chat_id in chats:
            if chat_id in self._active:
                continue
            if self.shared_leases and not await inbox.take_chat(
                self.db, chat_id, self.owner, datetime.now(UTC), LEASE_SECONDS
            ):
                continue
            self._start_chat(chat_id)
            started += 1
        return started

    async def _run_chat(self, chat_id: int) -> None:
        leased = asyncio.get_running_loop().time()
        try:
            while not self._stopping:
                settled = datetime.now(UTC) - self.holdback if self.holdback else None
                rows = await inbox.next_rows(self.db, chat_id, limit=10, settled_before=settled)
                if not rows:
                    break
                for row in rows:
                    if self._stopping:
                        break
                    await self._process(row)
                    if self.shared_leases and (
                            asyncio.get_running_loop().time() - leased > LEASE_SECONDS / 3):
                        if not await inbox.take_chat(self.db, chat_id, self.owner,
                                                     datetime.now(UTC), LEASE_SECONDS):
                            return  # our lease lapsed and another replica has the chat
                        leased = asyncio.get_running_loop().time()
        except Exception:
            log.exception("inbox: chat worker failed")
        finally:
            self._active.discard(chat_id)
            if self.shared_leases:
                try:
                    await inbox.release_chat(self.db, chat_id, self.owner)
                except Exception:
                    log.exception("inbox: could not release a chat lease")
            self.wake.set()

    async def _process(self, row: InboxRow) -> None:
        for attempt in range(NOT_READY_RETRIES + 1):
            try:
                await self.handle(row.id, may_wait=attempt < NOT_READY_RETRIES)
                self.processed += 1
                return
            except NotReadyYet:
                await asyncio.sleep(0.2)  # the chat waits; order is kept
            except Exception as exc:
                await self._failed(row, exc)
                return

    async def _failed(self, row: InboxRow, exc: BaseException) -> None:
        log.error("inbox row %s failed (%s); will retry", row.id, type(exc).__name__,
                  exc_info=_scrubbed(exc))
        gave_up = await inbox.mark_failed_attempt(
            self.db, row.id, type(exc).__name__, GIVE_UP_AFTER, datetime.now(UTC)
        )
        if gave_up:
            try:
                await self.on_give_up(row)
            except Exception:
                log.exception("inbox row %s: fallback failed", row.id)
        else:
            await asyncio.sleep(0.05)


ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def _scrubbed(exc: BaseException) -> ExcInfo:
    """The traceback without the exception's message, which could quote a parent's words."""
    clean = RuntimeError(f"{type(exc).__module__}.{type(exc).__name__} (message withheld)")
    return (RuntimeError, clean, exc.__traceback__)
