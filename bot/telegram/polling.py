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
from functools import partial
from typing import Any

from sqlalchemy import BigInteger, bindparam, cast
from sqlalchemy.ext.asyncio import AsyncSession
from telegram.error import Conflict, InvalidToken, RetryAfter

from bot.telegram.client import retry_after_seconds
from bot.telegram.health import OTHER_POLLER, WEBHOOK, ApiHealth, token_rejected_retry
from bot.telegram.intake import store_updates
from core.storage import hot
from core.storage.db import Database
from core.storage.models import KeyValue

log = logging.getLogger(__name__)

# A crisis line must hear a parent again within seconds of Telegram coming back, so a
# failing poll is retried every few seconds at most (one cheap request each time).
MAX_POLL_BACKOFF = 5.0
# A 401 (token revoked or wrong) cannot pass by itself in seconds: polling backs off from
# 1 s to once a minute (Telegram has been known to answer 401 for a moment in incidents, so
# it does not stop), and each try says what to do.
MAX_TOKEN_BACKOFF = 60.0
# A 409 (another poller, or a webhook someone set): polling goes on, every 0.5 s, 1 s, then
# every 2 s: often enough to take back the updates and to notice at once when the other
# side is gone, cheap enough to be no load (Telegram itself spaces these 409s by 3 s).
MAX_CONFLICT_BACKOFF = 2.0
OFFSET_KEY = "polling_offset"
# Telegram numbers updates one by one (Bot API docs, Update: "identifiers start from a
# certain positive number and increase sequentially"), so ids missing between the offset we
# asked for and what came are updates we will never get: Telegram keeps an unfetched update
# at most 24 hours (a button press 150 seconds), then drops it. The line cannot recover
# them or know whose they were; it can say how many, so an operator knows an outage cost
# messages. (After a week without any update Telegram may start numbering afresh: a gap
# then loses nothing, which is why the log line says "probably".)
GetUpdates = Callable[[int | None, int], Coroutine[Any, Any, list[dict[str, Any]]]]


async def load_offset(db: Database) -> int | None:
    async with db.read() as s:
        kv = await s.get(KeyValue, OFFSET_KEY)
        return int(kv.value) if kv else None


async def save_offset(db: Database, offset: int) -> None:
    async with db.tx() as s:
        await save_offset_in(s, offset)


def _offset_upsert(insert: Any) -> Any:
    stmt = insert(KeyValue).values(key=OFFSET_KEY, value=bindparam("v"))
    return stmt.on_conflict_do_update(
        index_elements=["key"], set_={"value": stmt.excluded.value},
        where=cast(KeyValue.value, BigInteger) < bindparam("n", type_=BigInteger),
    )


# Built once: it runs after every poll.
_OFFSET_UPSERT = hot.HotStatement(_offset_upsert)


async def save_offset_in(s: AsyncSession, offset: int) -> None:
    """One upsert that only ever moves the offset forward."""
    await hot.execute(s, _OFFSET_UPSERT, {"v": str(offset), "n": offset})


def missed_updates(offset: int, ids: list[int]) -> int:
    """How many ids from ``offset`` up to the highest of ``ids`` did not come."""
    came = {i for i in ids if i >= offset}
    return max(0, max(ids) - offset + 1 - len(came)) if came else 0


class Poller:
    """getUpdates -> inbox commit -> next offset. Runs until stopped."""

    def __init__(self, db: Database, get_updates: GetUpdates, on_stored: Callable[[], None],
                 timeout: int = 25, gather: float = 0.0,
                 health: ApiHealth | None = None) -> None:
        """``gather``: after a poll that brought updates, wait this long before the next
        one, so that under load each poll (an HTTP round trip and a commit) brings
        several updates. An idle line's long poll is not delayed by it. ``health`` hears
        every 409, every normal answer (what /readyz says about conflicts) and how many
        update ids Telegram skipped (see :func:`missed_updates`)."""
        self.db = db
        self.get_updates = get_updates
        self.on_stored = on_stored
        self.timeout = timeout
        self.gather = gather
        self.health = health
        self._stopping = False
        self._task: asyncio.Task[list[dict[str, Any]]] | None = None

    def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()  # abandons the parked long poll; nothing was acknowledged

    async def run(self) -> None:
        offset = await load_offset(self.db)
        failures = rejected = conflicts = 0
        while not self._stopping:
            try:
                self._task = asyncio.create_task(self.get_updates(offset, self.timeout))
                updates = await self._task
                conflicts = 0
                if self.health is not None:
                    self.health.poll_answered()
                ids = [int(u["update_id"]) for u in updates
                       if isinstance(u.get("update_id"), int)]
                if not ids:
                    failures = rejected = 0
                    continue
                following = max(ids) + 1
                if offset is not None and (missed := missed_updates(offset, ids)):
                    log.warning("polling: %d update(s) between id %d and %d never arrived; "
                                "Telegram probably dropped them unfetched (it keeps updates "
                                "24 hours, button presses 150 seconds)", missed, offset,
                                following - 1)
                    if self.health is not None:
                        self.health.updates_missed(missed)
                # Rows and the next offset in one commit; only the next call acknowledges
                # them, so if this fails the same updates simply come again.
                await store_updates(self.db, updates, datetime.now(UTC),
                                    then=partial(save_offset_in, offset=following))
                failures = rejected = 0
            except asyncio.CancelledError:
                if self._stopping:
                    break
                raise
            except RetryAfter as exc:
                delay = retry_after_seconds(exc)  # Telegram said when; no sooner, no later
                log.warning("polling: Telegram asked to wait %.1fs", delay)
                await asyncio.sleep(delay)
                continue
            except Conflict as exc:
                # Nothing was fetched, so nothing is lost: the offset stays, and what the
                # other poller fetched without confirming comes to the next poll. The
                # health check says what is wrong once; a webhook is never deleted here.
                kind = WEBHOOK if "webhook" in exc.message.lower() else OTHER_POLLER
                if self.health is not None:
                    self.health.poll_conflict(kind)
                conflicts += 1
                delay = min(MAX_CONFLICT_BACKOFF, 0.25 * 2 ** min(conflicts, 6))
                log.debug("polling: 409 (%s); polling again in %.1fs", kind, delay)
                await asyncio.sleep(delay)
                continue
            except InvalidToken:
                delay = min(MAX_TOKEN_BACKOFF, 2.0 ** min(rejected, 6))
                rejected += 1
                log.error("%s", token_rejected_retry(delay))
                await asyncio.sleep(delay)
                continue
            except Exception as exc:
                failures += 1
                delay = min(MAX_POLL_BACKOFF, 0.5 * 2 ** min(failures, 6))
                log.warning("polling failed (%s); retrying in %.1fs", type(exc).__name__, delay)
                await asyncio.sleep(delay)
                continue
            offset = following
            self.on_stored()
            if self.gather:
                await asyncio.sleep(self.gather)
