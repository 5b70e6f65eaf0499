"""Counting update ids Telegram skipped: what the poller reports after a long outage."""

from __future__ import annotations

from bot.telegram.client import too_late
from bot.telegram.polling import missed_updates


def test_ids_in_order_from_the_offset_miss_nothing() -> None:
    assert missed_updates(10, [10, 11, 12]) == 0


def test_ids_skipped_before_and_between_are_counted() -> None:
    assert missed_updates(10, [12, 13]) == 2  # 10 and 11 expired unfetched
    assert missed_updates(10, [10, 13, 15]) == 3  # 11, 12, 14


def test_ids_below_the_offset_are_not_a_gap() -> None:
    assert missed_updates(10, [3, 4]) == 0  # renumbered after a quiet week: nothing lost


def test_only_window_refusals_are_too_late() -> None:
    assert too_late("answerCallbackQuery", "Query is too old and response timeout expired or "
                                           "query id is invalid")
    assert too_late("deleteMessage", "Message can't be deleted for everyone")
    assert too_late("deleteMessage", "Message can't be deleted")
    assert not too_late("deleteMessage", "Message to delete not found")
    assert not too_late("sendMessage", "Query is too old")
