"""The rate limiter books slots by Telegram's limits (virtual clock, no sleeping)."""

from __future__ import annotations

from bot.app.ratelimit import LocalRateLimiter


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_one_chat_gets_a_short_burst_then_one_a_second() -> None:
    clock = Clock()
    rl = LocalRateLimiter(30, 1.0, 3, 20, clock=clock)
    waits = [rl.reserve(42) for _ in range(6)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3:] == [1.0, 2.0, 3.0]


def test_groups_are_limited_to_twenty_a_minute() -> None:
    clock = Clock()
    rl = LocalRateLimiter(30, 1.0, 3, 20, clock=clock)
    waits = [rl.reserve(-100) for _ in range(23)]
    assert max(waits) >= 19 * 3.0 - 1e-6  # the 23rd waits about a minute


def test_overall_rate_across_many_chats() -> None:
    clock = Clock()
    rl = LocalRateLimiter(30, 1.0, 3, 20, clock=clock)
    waits = [rl.reserve(chat) for chat in range(90)]
    # 30 go at once (a one-second burst), the rest spread at 30 a second.
    assert sum(1 for w in waits if w == 0) == 30
    assert abs(waits[-1] - 2.0) < 0.05


def test_retry_after_pauses_that_chat_only() -> None:
    clock = Clock()
    rl = LocalRateLimiter(30, 1.0, 3, 20, clock=clock)
    rl.penalize(7, 5.0)
    assert rl.reserve(7) >= 5.0 - 1e-6
    assert rl.reserve(8) == 0.0
