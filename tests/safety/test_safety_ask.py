"""Asking directly, and the window of recent messages: pure rules over plain data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flows.safety import ask

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def test_the_window_keeps_the_last_few_messages_of_the_hour() -> None:
    w: ask.Window = []
    for i in range(6):
        w = ask.push(w, f"message {i}", NOW + timedelta(minutes=i))
    assert ask.texts(w) == ["message 2", "message 3", "message 4", "message 5"]
    later = ask.push(w, "much later", NOW + timedelta(minutes=5 + ask.WINDOW_MINUTES + 1))
    assert ask.texts(later) == ["much later"]
    assert ask.push(None, "x" * 5000, NOW)[0][1] == "x" * ask.WINDOW_CHARS


def test_never_asked_twice_in_a_row() -> None:
    assert ask.should_ask(None, "suicide", NOW)
    waiting = ask.asked("suicide", NOW)
    # A question that waits for its answer is not asked again, about anything...
    assert not ask.should_ask(waiting, "suicide", NOW + timedelta(minutes=5))
    assert not ask.should_ask(waiting, "self_harm", NOW + timedelta(minutes=5))
    # ...unless it has waited long: then asking again is the caring thing.
    assert ask.should_ask(waiting, "suicide", NOW + timedelta(minutes=ask.ASK_AGAIN_MINUTES))
    no = ask.answered(waiting, ask.NO)
    assert not ask.should_ask(no, "suicide", NOW + timedelta(minutes=5))  # the same thing
    assert ask.should_ask(no, "harm_to_child", NOW + timedelta(minutes=5))  # something else
    assert ask.should_ask(no, "suicide", NOW + timedelta(minutes=ask.ASK_AGAIN_MINUTES))
    assert ask.should_ask({"at": "not a time"}, "suicide", NOW)
