"""Telegram's clock: what time does to a line that was down, late, or deleting old messages.

The fake's clock (``fake.advance_clock``) moves Telegram's time without sleeping: updates
nobody fetched expire (24 h; a button press 150 s), a press answered after 15 s is refused,
a message over 48 h old cannot be deleted. The line's own clock stays real, as it would be
on a server that was simply stopped. SQLite only: nothing here is about replicas.
"""

from __future__ import annotations

import logging
import re

import pytest
from conftest import Line, Person

from bot.app.runtime import LineRuntime
from bot.web.metrics import collect

HOUR = 3600.0


def t(line: Line, key: str, lang: str = "en") -> str:
    return line.runtime.content.current.text(key, lang)


async def restart_after(line: Line, seconds: float, while_down: list[str] | None = None,
                        parent: Person | None = None) -> None:
    """Stop the line, let ``parent`` write ``while_down``, move Telegram's clock, start."""
    await line.runtime.stop()
    for text in while_down or []:
        assert parent is not None
        parent.says(text)
    line.fake.advance_clock(seconds)
    await start_again(line)


async def start_again(line: Line) -> None:
    """A new process on the same database, as after a real restart."""
    line.runtime = LineRuntime(line.runtime.settings, db=line.runtime.db, serve_web=False)
    await line.runtime.start()


async def metric(line: Line, name: str, **labels: str) -> float:
    """One sample of /metrics as this replica exposes it."""
    body = await collect(line.runtime)
    label = ",".join(f'{k}="{v}"' for k, v in labels.items())
    sample = f"{name}{{{label}}}" if label else name
    found = re.search(rf"^{re.escape(sample)} (\S+)$", body, re.MULTILINE)
    assert found, f"no {sample} in /metrics"
    return float(found.group(1))


def warnings_from_the_line(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno >= logging.WARNING and r.name.split(".")[0] in ("bot", "core",
                                                                         "handoff", "flows")]


async def test_a_message_written_during_a_23_hour_outage_is_answered(line: Line) -> None:
    parent = line.parent(5101)
    parent.says("/start")
    await parent.reads(t(line, "parent.welcome")[:40])

    await restart_after(line, 23 * HOUR, ["It has been a really long week and I am worn out"],
                        parent)

    await parent.reads(t(line, "parent.ask_help")[:30])
    assert await metric(line, "parentline_updates_missed_total") == 0


async def test_after_25_hours_telegram_has_dropped_it_and_the_line_counts_the_gap(
        line: Line, caplog: pytest.LogCaptureFixture) -> None:
    """The first message outlived Telegram's 24 hours and is gone before the line is back:
    the line cannot answer it or know whose it was, but it says that an update id never
    came (log and metric, no text), and answers what Telegram still had."""
    caplog.set_level(logging.INFO)
    parent = line.parent(5102)
    parent.says("/start")
    await parent.reads(t(line, "parent.welcome")[:40])

    await line.runtime.stop()
    parent.says("my son has not slept for three nights")  # lost: 25 h old at restart
    line.fake.advance_clock(24 * HOUR)
    parent.says("It has been a really long week and I am worn out")  # 1 h old at restart
    line.fake.advance_clock(1 * HOUR)
    await start_again(line)

    await parent.reads(t(line, "parent.ask_help")[:30])
    assert line.fake.expired_updates == 1
    assert await metric(line, "parentline_updates_missed_total") == 1
    gap = [m for m in warnings_from_the_line(caplog) if "never arrived" in m]
    assert len(gap) == 1 and "three nights" not in gap[0] and "Parent5102" not in gap[0]


async def test_a_press_handled_after_the_answer_window_still_takes_effect_quietly(
        line: Line, caplog: pytest.LogCaptureFixture) -> None:
    """The line was down when the parent pressed: by the time it handles the press (a
    minute later, within the 150 s Telegram keeps a press) Telegram refuses the answer.
    The choice is honoured, the answer is tried once, and nothing alarming is logged."""
    caplog.set_level(logging.INFO)
    parent = line.parent(5103)
    parent.says("/start")
    parent.says("It has been a really long week and I am worn out at home")
    await parent.reads(t(line, "parent.ask_help")[:30])

    await line.runtime.stop()
    await parent.press(t(line, "parent.buttons.ideas"))
    line.fake.advance_clock(60)
    await start_again(line)

    await parent.reads(t(line, "parent.topic.choose")[:30])
    await line.fake.wait_until(lambda: bool(line.fake.requests("answerCallbackQuery")))
    # A later press, answered in time, works as ever (nothing is stuck behind the refusal).
    content = line.runtime.content.current
    topic = next(tp for tp in content.topics if tp.id == "tantrums")
    await parent.press(topic.title["en"])
    await parent.reads(topic.strength_question["en"][:30])
    await line.fake.wait_until(lambda: len(line.fake.requests("answerCallbackQuery")) == 2)
    assert [r.status for r in line.fake.requests("answerCallbackQuery")] == [400, 200]
    assert await metric(line, "parentline_telegram_too_late_total",
                        method="answerCallbackQuery") == 1
    assert warnings_from_the_line(caplog) == []
    assert any("too late for Telegram" in r.getMessage() and r.levelno == logging.INFO
               for r in caplog.records)


async def test_forget_after_48_hours_deletes_what_telegram_allows_and_finishes(
        line: Line, caplog: pytest.LogCaptureFixture) -> None:
    """/forget deletes the bot's recent messages. Two days on, Telegram refuses to delete
    the old ones ("message can't be deleted for everyone"): each refusal is final (tried
    once), the parent's farewell still comes, the newer messages are deleted."""
    caplog.set_level(logging.INFO)
    parent = line.parent(5104)
    parent.says("/start")
    parent.says("My daughter will not eat anything but crackers and I worry all the time")
    await parent.reads(t(line, "parent.ask_help")[:30])
    old = [m["message_id"] for m in line.fake.messages_to(parent.id)]

    line.fake.advance_clock(49 * HOUR)  # the line's own clock does not know
    parent.says("/forget")
    await parent.reads(t(line, "parent.forget.confirm")[:30])
    await parent.press(t(line, "parent.buttons.forget_yes"))
    await parent.reads(t(line, "privacy.forget_limits")[:30])

    def deletes() -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for r in line.fake.requests("deleteMessage"):
            out.setdefault(int(r.params["message_id"]), []).append(r.status)
        return out

    await line.fake.wait_until(lambda: set(old) <= set(deletes()) and any(
        m["deleted"] for m in line.fake.messages_to(parent.id)), timeout=10)
    await line.runtime.sender.drain(1.0)
    tried = deletes()
    assert all(tried[mid] == [400] for mid in old)  # refused once each, never retried
    assert any(s == [200] for mid, s in tried.items() if mid not in old)
    assert await metric(line, "parentline_telegram_too_late_total",
                        method="deleteMessage") == len(old)
    assert warnings_from_the_line(caplog) == []
