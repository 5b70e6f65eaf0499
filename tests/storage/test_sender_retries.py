"""How the sender retries: a glitch is retried within seconds, an outage backs off, and
waiting for a chat's rate-limit slot never holds up other chats.

``call`` here stands in for Telegram itself (the boundary the fake Bot API plays in the
end-to-end tests); the sender, the outbox and the rate limiter are the real ones.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.app.ratelimit import LocalRateLimiter
from bot.app.sender import GLITCH_EXPONENT, MAX_BACKOFF, CallHealth, Sender, give_up
from bot.telegram.client import Outcome
from bot.telegram.outgoing import add_actions
from core.storage.db import Database
from core.storage.models import OutboxRow
from flows.events import SendText


def test_a_glitch_is_retried_quickly_and_an_outage_backs_off() -> None:
    health = CallHealth(window=10)
    for _ in range(9):
        health.record(True)
    health.record(False)
    assert not health.mostly_failing()
    # Even on its seventh failure in a row, one unlucky call waits seconds, not a minute.
    ceiling = 2**GLITCH_EXPONENT * 0.5 * 1.5  # backoff(GLITCH_EXPONENT) at most: 3 s
    assert max(health.retry_delay(7) for _ in range(200)) <= ceiling
    for _ in range(6):
        health.record(False)
    assert health.mostly_failing()
    delays = [health.retry_delay(7) for _ in range(200)]
    assert max(delays) == MAX_BACKOFF and min(delays) > 3.0
    for _ in range(10):
        health.record(True)  # Telegram is back: the window forgets the outage
    assert not health.mostly_failing()


def _row(attempts: int, age: timedelta, now: datetime) -> OutboxRow:
    return OutboxRow(chat_id=1, method="sendMessage", params={}, meta={},
                     created_at=now - age, not_before=now, attempts=attempts)


def test_a_message_is_given_up_only_after_half_an_hour_of_failing() -> None:
    now = datetime.now(UTC)
    assert not give_up(_row(500, timedelta(minutes=29), now), now)  # many quick retries
    assert not give_up(_row(3, timedelta(hours=2), now), now)  # a long outage, few tries
    assert give_up(_row(11, timedelta(minutes=31), now), now)


async def test_waiting_for_a_busy_chat_does_not_hold_up_the_others(db: Database) -> None:
    """Four messages into one chat need four seconds (one a second); the other chats'
    messages must not queue behind them for a call slot."""
    now = datetime.now(UTC)
    async with db.tx() as s:
        await add_actions(s, [SendText(1, f"busy {i}") for i in range(4)], now)
        await add_actions(s, [SendText(100 + c, "hello") for c in range(12)], now)
    order: list[int] = []  # chats, in the order Telegram heard from us
    all_sent = asyncio.Event()

    async def telegram(chat_id: int | None, method: str, params: dict[str, Any]) -> Outcome:
        assert chat_id is not None
        order.append(chat_id)
        if len(order) == 16:
            all_sent.set()
        return Outcome("sent", message_id=len(order))

    limiter = LocalRateLimiter(global_per_second=30, chat_per_second=1, chat_burst=1)
    sender = Sender(db, telegram, limiter, concurrency=1, chats=8)
    task = asyncio.create_task(sender.run())
    try:
        await asyncio.wait_for(all_sent.wait(), timeout=30)
    finally:
        sender.stop()
        await task
    # Had the busy chat's waits held the one call slot, every other chat would come
    # after all four of its messages.
    assert len(order) == 16 and order.count(1) == 4
    assert order.index(1, order.index(1) + 1) > max(i for i, c in enumerate(order) if c != 1)
