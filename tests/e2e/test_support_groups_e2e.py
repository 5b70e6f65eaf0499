"""Support groups (issue #15), over real HTTP against the fake Bot API.

A parent asking for resources sees each example group's next meeting in their own
language, in the group's time zone, with the group's language and how to join; "Remind
me the day before" schedules one durable job. Time is moved by setting that job's
``due_at`` back in the database, so the real job runner delivers it: the neutral reminder
arrives through the outbox exactly once, also across restarts of the line. /stop,
/forget and "Cancel the reminder" leave nothing to send.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import Line, Person
from sqlalchemy import func, select, update

from bot.app.runtime import LineRuntime
from core.storage.models import Job, OutboxRow, Parent
from flows.content.meetings import next_meetings
from flows.content.render import at_time, meeting_when, zone_label

EN_GROUP = "example-parent-group-en"
ES_GROUP = "example-parent-group-es"
JOB = "meeting_reminder"




@pytest.fixture
def line_overrides() -> dict[str, Any]:
    return {"demo": True}  # the example groups are demo-only


def t(line: Line, key: str, lang: str = "en", **kw: Any) -> str:
    return line.runtime.content.current.text(key, lang, **kw)


def expected_next(line: Line, rid: str, lang: str) -> str:
    content = line.runtime.content.current
    group = content.resource(rid)
    assert group is not None and group.meetings is not None
    start = next_meetings(group.meetings, datetime.now(UTC))[0].start
    return t(line, "resources.meeting.next", lang, when=meeting_when(content, start, lang),
             zone=zone_label(content, group.meetings.timezone, lang))


async def groups_shown(line: Line, parent: Person, lang: str, *, asks: bool = True) -> None:
    parent.says("/resources")
    if asks:  # the region is asked once, and can be skipped
        await parent.reads(t(line, "parent.region.ask", lang)[:30])
        await parent.press(t(line, "parent.buttons.skip", lang))
    await parent.reads(t(line, "parent.resources.after", lang)[:30])


def group_message(line: Line, parent: Person, rid: str, lang: str) -> dict[str, Any]:
    group = line.runtime.content.current.resource(rid)
    assert group is not None
    name = group.name.get(lang) or group.name["en"]
    for msg in reversed(line.fake.messages_to(parent.id)):
        if msg["text"] and name in msg["text"] and msg["buttons"]:
            return msg
    raise AssertionError(f"no message for {rid} with a button; the bot sent {parent.texts()!r}")


def press_on(line: Line, parent: Person, msg: dict[str, Any], label: str) -> None:
    for row in msg["buttons"]:
        for b in row:
            if b["text"] == label:
                line.fake.user_presses(parent.id, msg["message_id"], b["callback_data"])
                return
    raise AssertionError(f"no {label!r} button on {msg['text']!r}")


async def pending(line: Line, tg_id: int) -> list[Job]:
    async with line.runtime.db.read() as s:
        p = (await s.scalars(select(Parent).where(Parent.tg_user_id == tg_id))).one_or_none()
        if p is None:
            return []
        return list(await s.scalars(select(Job).where(
            Job.kind == JOB, Job.parent_id == p.id, Job.done_at.is_(None))))


async def hurry(line: Line, job: Job) -> None:
    async with line.runtime.db.tx() as s:
        await s.execute(update(Job).where(Job.id == job.id)
                        .values(due_at=datetime.now(UTC) - timedelta(seconds=1)))


async def restart(line: Line) -> None:
    await line.runtime.stop()
    line.runtime = LineRuntime(line.runtime.settings, db=line.runtime.db, serve_web=False)
    await line.runtime.start()


async def test_next_meeting_in_the_parents_language_and_the_reminder_is_sent_once(
    line: Line,
) -> None:
    parent = line.parent(9701)
    await groups_shown(line, parent, "en")
    msg = group_message(line, parent, EN_GROUP, "en")
    assert expected_next(line, EN_GROUP, "en") in msg["text"]
    assert "(Pacific time)" in msg["text"]
    assert t(line, "resources.meeting.group_language", language="English") in msg["text"]
    assert "How to join: Just come, or join by video" in msg["text"]

    remind = t(line, "parent.buttons.remind_meeting")
    press_on(line, parent, msg, remind)
    confirm = await parent.reads("I'll send a short reminder on")
    assert "nothing about what it's for" in confirm["text"]
    press_on(line, parent, msg, remind)  # pressed twice: still one reminder
    await parent.reads("I'll send a short reminder on")
    jobs = await pending(line, 9701)
    assert len(jobs) == 1 and jobs[0].payload["resource"] == EN_GROUP
    meeting_at = datetime.fromisoformat(jobs[0].payload["at"])
    assert jobs[0].due_at.replace(tzinfo=UTC) == (meeting_at - timedelta(days=1)).astimezone(UTC)

    await restart(line)  # the job is durable
    await hurry(line, jobs[0])
    content = line.runtime.content.current
    words = t(line, "parent.groups.reminder", at=at_time(content, meeting_at, "en"),
              zone="Pacific")
    assert words == "A reminder you asked for: tomorrow at 6:30 pm (Pacific time)."
    await parent.reads(words)
    assert await pending(line, 9701) == []

    await restart(line)  # a restart after it went out sends nothing again
    parent.says("/help")
    await parent.reads(t(line, "parent.help")[:30])
    assert parent.texts().count(words) == 1
    async with line.runtime.db.read() as s:
        rows = await s.scalar(select(func.count()).select_from(OutboxRow)
                              .where(OutboxRow.chat_id == 9701))
        jobs_left = await s.scalar(select(func.count()).select_from(Job)
                                   .where(Job.kind == JOB, Job.done_at.is_(None)))
    assert rows and jobs_left == 0


async def test_a_spanish_parent_sees_it_in_spanish_and_can_cancel(line: Line) -> None:
    parent = line.parent(9702, lang="es")
    await groups_shown(line, parent, "es")
    msg = group_message(line, parent, ES_GROUP, "es")
    assert expected_next(line, ES_GROUP, "es") in msg["text"]
    assert "(hora del Pacífico)" in msg["text"]
    assert "El grupo se reúne en español." in msg["text"]
    assert "Cómo unirte: Llama primero" in msg["text"]

    press_on(line, parent, msg, t(line, "parent.buttons.remind_meeting", "es"))
    await parent.reads("Te mandaré un recordatorio corto")
    assert len(await pending(line, 9702)) == 1
    await parent.press(t(line, "parent.buttons.cancel_reminder", "es"))
    await parent.reads(t(line, "parent.groups.reminder_cancelled", "es"))
    assert await pending(line, 9702) == []


async def test_stop_and_forget_cancel_the_reminder(line: Line) -> None:
    parent = line.parent(9703)
    await groups_shown(line, parent, "en")
    remind = t(line, "parent.buttons.remind_meeting")
    press_on(line, parent, group_message(line, parent, EN_GROUP, "en"), remind)
    await parent.reads("I'll send a short reminder on")
    assert len(await pending(line, 9703)) == 1
    parent.says("/stop")
    await parent.reads(t(line, "parent.stop")[:30])
    assert await pending(line, 9703) == []

    await groups_shown(line, parent, "en", asks=False)
    press_on(line, parent, group_message(line, parent, ES_GROUP, "en"), remind)
    await parent.reads("I'll send a short reminder on")
    assert len(await pending(line, 9703)) == 1
    parent.says("/forget")
    await parent.reads(t(line, "parent.forget.confirm")[:30])
    await parent.press(t(line, "parent.buttons.forget_yes"))
    await parent.reads(t(line, "parent.forget.done")[:30])
    async with line.runtime.db.read() as s:
        left = await s.scalar(select(func.count()).select_from(Job).where(Job.kind == JOB))
    assert left == 0


async def test_a_domestic_violence_crisis_cancels_a_reminder_set_before_it(line: Line) -> None:
    """Someone may be reading their phone: a message from us, however neutral, is a risk
    they did not know about when they asked for it."""
    parent = line.parent(9704)
    await groups_shown(line, parent, "en")
    remind = t(line, "parent.buttons.remind_meeting")
    press_on(line, parent, group_message(line, parent, EN_GROUP, "en"), remind)
    await parent.reads("I'll send a short reminder on")
    assert len(await pending(line, 9704)) == 1
    parent.says("he choked me last night and im scared to go home")
    await parent.reads(t(line, "crisis.domestic_violence")[:40])
    assert await pending(line, 9704) == []
