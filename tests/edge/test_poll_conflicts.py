"""How the health check turns getUpdates 409s into "not ready" and back (on a test clock).

The end-to-end tests (tests/e2e/test_telegram_conflicts_e2e.py) show it over HTTP; these
pin the thresholds: one 409 is a restart, two within a minute are two pollers, and it is
over only after 20 s without one and a normal answer since.
"""

from __future__ import annotations

from bot.telegram.health import (
    CONFLICT_QUIET,
    CONFLICT_WINDOW,
    OTHER_POLLER,
    OTHER_POLLER_PROBLEM,
    WEBHOOK,
    WEBHOOK_PROBLEM,
    ApiHealth,
)


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_two_conflicts_a_minute_apart_are_two_restarts_not_a_conflict() -> None:
    clock = Clock()
    health = ApiHealth(clock)
    health.poll_conflict(OTHER_POLLER)
    assert health.problem() is None
    health.poll_answered()
    clock.now += CONFLICT_WINDOW + 1
    health.poll_conflict(OTHER_POLLER)
    assert health.problem() is None
    assert health.conflicts[OTHER_POLLER] == 2


def test_another_poller_lasts_until_quiet_and_a_normal_answer() -> None:
    clock = Clock()
    health = ApiHealth(clock)
    health.poll_conflict(OTHER_POLLER)
    clock.now += 5
    health.poll_conflict(OTHER_POLLER)
    assert health.problem() == OTHER_POLLER_PROBLEM
    health.poll_answered()  # polls in between answer: still a conflict
    clock.now += CONFLICT_QUIET - 1
    assert health.problem() == OTHER_POLLER_PROBLEM
    health.poll_conflict(OTHER_POLLER)  # it is still there
    clock.now += CONFLICT_QUIET
    assert health.problem() == OTHER_POLLER_PROBLEM  # quiet, but no answer since
    health.poll_answered()
    assert health.problem() is None
    assert not health.poll_conflict_now(OTHER_POLLER)


def test_a_webhook_conflict_is_at_once_and_over_at_the_next_answer() -> None:
    health = ApiHealth(Clock())
    health.poll_conflict(WEBHOOK)
    assert health.problem() == WEBHOOK_PROBLEM
    health.poll_conflict(OTHER_POLLER)
    health.poll_conflict(OTHER_POLLER)
    assert health.problem() == WEBHOOK_PROBLEM  # the more telling one first
    health.poll_answered()
    assert not health.poll_conflict_now(WEBHOOK)
    assert health.problem() == OTHER_POLLER_PROBLEM
