"""One rate limiter for every outgoing call, following Telegram's published limits.

Telegram allows about 30 messages a second overall, about 1 a second into one chat
(short bursts tolerated) and 20 a minute into a group. Exceeding them earns 429s and,
repeatedly, a flood ban. The limiter uses GCRA (a token bucket expressed as a
"theoretical arrival time" per key), which needs one number per key: cheap in memory
and, for replicas, cheap to keep in a shared database row (see ``SharedRateLimiter``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Limit:
    interval: float  # seconds between requests at the sustained rate
    tolerance: float  # how far ahead a burst may run, in seconds

    @classmethod
    def per_second(cls, rate: float, burst: int = 1) -> Limit:
        interval = 1.0 / rate
        return cls(interval, max(0, burst - 1) * interval)


class LocalRateLimiter:
    """Per-process GCRA limiter over a global key and a per-chat key."""

    def __init__(
        self,
        global_per_second: float = 30.0,
        chat_per_second: float = 1.0,
        chat_burst: int = 3,
        group_per_minute: int = 20,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        burst = max(1, int(global_per_second))
        self.global_limit = Limit.per_second(global_per_second, burst=burst)
        self.chat_limit = Limit.per_second(chat_per_second, chat_burst)
        self.group_limit = Limit.per_second(group_per_minute / 60.0, 3)
        self._tat: dict[str, float] = {}
        self._clock = clock
        self._lock = asyncio.Lock()

    def _limits_for(self, chat_id: int | None) -> list[tuple[str, Limit]]:
        keys: list[tuple[str, Limit]] = [("*", self.global_limit)]
        if chat_id is not None:
            keys.append((f"c{chat_id}", self.group_limit if chat_id < 0 else self.chat_limit))
        return keys

    def reserve(self, chat_id: int | None) -> float:
        """Book the next slot for ``chat_id``; returns how long to wait for it.

        Each key is booked from its own earliest slot, so a chat that must wait (after a
        429, say) does not hold back the global budget for every other chat.
        """
        now = self._clock()
        wait = 0.0
        for key, lim in self._limits_for(chat_id):
            tat = max(self._tat.get(key, now), now)
            wait = max(wait, tat - lim.tolerance - now)
            self._tat[key] = tat + lim.interval
        if len(self._tat) > 50_000:  # forget idle chats
            self._tat = {k: v for k, v in self._tat.items() if v > now}
        return wait

    async def acquire(self, chat_id: int | None) -> None:
        async with self._lock:
            wait = self.reserve(chat_id)
        if wait > 0:
            await asyncio.sleep(wait)

    def penalize(self, chat_id: int | None, seconds: float) -> None:
        """Telegram said 429: nothing more to that chat until ``retry_after`` has passed."""
        now = self._clock()
        key, lim = self._limits_for(chat_id)[-1]
        self._tat[key] = max(self._tat.get(key, now), now + seconds + lim.tolerance)


class SharedRateLimiter:
    """GCRA in the database, so several replicas together stay under Telegram's limits.

    Each key's theoretical arrival time is one row in ``rate_buckets``, advanced by a
    single conditional UPDATE (atomic on PostgreSQL and SQLite alike). Independent
    per-process throttles would add up and get the bot flood-banned.
    """

    def __init__(self, db: Any, global_per_second: float = 30.0, chat_per_second: float = 1.0,
                 chat_burst: int = 3, group_per_minute: int = 20) -> None:
        self.db = db
        self.local = LocalRateLimiter(global_per_second, chat_per_second, chat_burst,
                                      group_per_minute)

    async def acquire(self, chat_id: int | None) -> None:
        while True:
            wait = await self._try(chat_id)
            if wait <= 0:
                return
            await asyncio.sleep(min(wait, 1.0))

    async def _try(self, chat_id: int | None) -> float:
        """Book a slot on every key if all allow it now; otherwise how long to wait."""
        from sqlalchemy import text

        now = time.time()
        limits = self.local._limits_for(chat_id)
        async with self.db.tx() as s:
            wait = 0.0
            rows: dict[str, float] = {}
            for key, lim in limits:
                row = (await s.execute(
                    text("SELECT tokens FROM rate_buckets WHERE key = :k" +
                         ("" if self.db.sqlite else " FOR UPDATE")), {"k": key})).first()
                tat = max(float(row[0]) if row else now, now)
                rows[key] = tat
                wait = max(wait, tat - lim.tolerance - now)
            if wait > 0:
                return wait
            for key, lim in limits:
                new = rows[key] + lim.interval
                res = await s.execute(
                    text("UPDATE rate_buckets SET tokens = :t, updated_at = :u WHERE key = :k"),
                    {"t": new, "u": _utcnow(), "k": key})
                if not getattr(res, "rowcount", 0):
                    await s.execute(
                        text("INSERT INTO rate_buckets (key, tokens, updated_at) "
                             "VALUES (:k, :t, :u) ON CONFLICT (key) DO UPDATE SET "
                             "tokens = excluded.tokens, updated_at = excluded.updated_at"),
                        {"k": key, "t": new, "u": _utcnow()})
        return 0.0

    def penalize(self, chat_id: int | None, seconds: float) -> None:
        """A 429 is rare; the retry is already delayed by the row's ``not_before``."""
        self.local.penalize(chat_id, seconds)


def _utcnow() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)
