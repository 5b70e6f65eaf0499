"""Long polling that never loses an update.

python-telegram-bot's Updater asks for the next batch (which acknowledges the previous
one) right after queueing updates, before they are processed: a crash loses them. Here
the offset moves past an update only after that update is committed to the inbox, and
the offset itself is kept in the database so a restart resumes exactly where it was.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from bot.storage.db import Database
from bot.storage.inbox import store_updates
from bot.storage.models import KeyValue

log = logging.getLogger(__name__)

OFFSET_KEY = "polling_offset"
GetUpdates = Callable[[int | None, int], Coroutine[Any, Any, list[dict[str, Any]]]]


async def load_offset(db: Database) -> int | None:
    async with db.read() as s:
        kv = await s.get(KeyValue, OFFSET_KEY)
        return int(kv.value) if kv else None


async def save_offset(db: Database, offset: int) -> None:
    async with db.tx() as s:
        kv = (await s.scalars(select(KeyValue).where(KeyValue.key == OFFSET_KEY))).one_or_none()
        if kv is None:
            s.add(KeyValue(key=OFFSET_KEY, value=str(offset)))
        elif int(kv.value) < offset:
            kv.value = str(offset)


class Poller:
    """getUpdates -> inbox commit -> next offset. Runs until stopped."""

    def __init__(self, db: Database, get_updates: GetUpdates, on_stored: Callable[[], None],
                 timeout: int = 25) -> None:
        self.db = db
        self.get_updates = get_updates
        self.on_stored = on_stored
        self.timeout = timeout
        self._stopping = False
        self._task: asyncio.Task[list[dict[str, Any]]] | None = None

    def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()  # abandons the parked long poll; nothing was acknowledged

    async def run(self) -> None:
        offset = await load_offset(self.db)
        failures = 0
        while not self._stopping:
            try:
                self._task = asyncio.create_task(self.get_updates(offset, self.timeout))
                updates = await self._task
                failures = 0
            except asyncio.CancelledError:
                if self._stopping:
                    break
                raise
            except Exception as exc:
                failures += 1
                delay = min(30.0, 0.5 * 2 ** min(failures, 6))
                log.warning("getUpdates failed (%s); retrying in %.1fs", type(exc).__name__, delay)
                await asyncio.sleep(delay)
                continue
            if not updates:
                continue
            await store_updates(self.db, updates, datetime.now(UTC))  # commit first...
            last = max(int(u["update_id"]) for u in updates if isinstance(u.get("update_id"), int))
            offset = last + 1
            await save_offset(self.db, offset)  # ...then the next call acknowledges them
            self.on_stored()
