"""Support groups: the next meeting, and an opt-in reminder the day before.

A group with a ``meetings`` rule is shown as its own message with a "Remind me the day
before" button. The reminder says only "A reminder you asked for: tomorrow at 7:00 pm":
the phone may be shared, so nothing on the lock screen says parenting, abuse or support.
It is sent once, and only if the group still meets then (a changed or removed group
sends nothing rather than a wrong time). /stop, /forget and "Cancel the reminder" drop it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flows.callbacks import CallbackTooLong
from flows.content import Resource
from flows.content.meetings import next_meetings, next_reminder
from flows.content.render import at_time, meeting_when, zone_label
from flows.effects import CancelMeetingReminders, ScheduleMeetingReminder
from flows.events import Button

if TYPE_CHECKING:
    from flows.parent.flow import _Ctx

REMIND = "mr"  # button: remind me the day before (arg: the resource id)
UNREMIND = "mx"  # button: cancel that reminder
JOB = "meeting_reminder"


def remind_button(ctx: _Ctx, r: Resource) -> Button | None:
    """The opt-in button for a group with meetings (``None`` if its id is too long to sign)."""
    if r.meetings is None or not next_meetings(r.meetings, ctx.now):
        return None
    try:
        return ctx.button("parent.buttons.remind_meeting", REMIND, r.id)
    except (CallbackTooLong, ValueError):
        return None


def _btn_remind(ctx: _Ctx, arg: str) -> bool:
    r = ctx.content.resource(arg)
    if r is None or r.meetings is None:
        return False
    found = next_reminder(r.meetings, ctx.now)
    if found is None:
        ctx.say("parent.groups.no_meeting")
        return True
    meeting, due = found
    ctx.effects.append(ScheduleMeetingReminder(r.id, meeting.start, due))
    ctx.send(
        ctx.text("parent.groups.reminder_set",
                 when=meeting_when(ctx.content, due, ctx.lang),
                 zone=zone_label(ctx.content, r.meetings.timezone, ctx.lang)),
        [[ctx.button("parent.buttons.cancel_reminder", UNREMIND, r.id)]],
    )
    return True


def _btn_unremind(ctx: _Ctx, arg: str) -> bool:
    if not arg:
        return False
    ctx.effects.append(CancelMeetingReminders(arg))
    ctx.say("parent.groups.reminder_cancelled")
    return True


def reminder_due(ctx: _Ctx) -> None:
    """The job fired: say the neutral reminder, if the group still meets at that time."""
    r = ctx.content.resource(str(ctx.event.internal.get("resource", "")))
    raw = ctx.event.internal.get("at")
    if r is None or r.meetings is None or not isinstance(raw, str):
        return
    try:
        at = datetime.fromisoformat(raw)
    except ValueError:
        return
    if at.tzinfo is None or at <= ctx.now:
        return
    upcoming = next_meetings(r.meetings, ctx.now, count=3)
    meeting = next((x for x in upcoming if x.start == at), None)
    if meeting is None:
        return  # the group changed its time or skips that day: no wrong reminder
    ctx.send(ctx.text("parent.groups.reminder", at=at_time(ctx.content, meeting.start, ctx.lang),
                      zone=zone_label(ctx.content, r.meetings.timezone, ctx.lang)))
