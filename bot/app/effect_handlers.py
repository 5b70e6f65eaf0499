"""What the application does for each effect a flow returns: one handler per effect type.

``flows/`` never touches storage, the scheduler or the queue; it returns small records
(``flows/effects.py``) and ``apply_effect`` carries each out, in list order, in the same
transaction as the replies. ``EFFECT_HANDLERS`` is the table from effect type to handler.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.app import parents as parents_mod
from core.context import Ctx
from core.storage.models import Job, Parent
from flows.effects import (
    CancelCheckins,
    CancelMeetingReminders,
    Effect,
    ForgetConfirmed,
    LanguageChanged,
    LeaveQueue,
    PlanChosen,
    RequestPeer,
    ResourcesShared,
    ScheduleCheckin,
    ScheduleMeetingReminder,
    SetRegion,
    TopicChosen,
)
from flows.events import Inbound
from flows.parent.groups import JOB as MEETING_JOB
from flows.parent.machine import HANDED_OFF
from handoff import api as handoff

EffectHandler = Callable[[Ctx, Parent, Any], Awaitable[None]]


async def request_peer(ctx: Ctx, parent: Parent, effect: RequestPeer) -> None:
    card = handoff.Card(effect.topic, effect.region) if effect.card else None
    await handoff.request_peer(ctx, parent, experience=effect.experience,
                               chosen=effect.chosen, note=effect.note, card=card)
    parent.flow_state = HANDED_OFF


async def leave_queue(ctx: Ctx, parent: Parent, effect: LeaveQueue) -> None:
    conv = await handoff.open_conversation(ctx, parent)
    if conv is not None:  # the same as the parent sending /stop to the handoff
        await handoff.parent_event(ctx, parent, conv, Inbound(
            kind="command", command="stop", chat_id=parent.chat_id,
            user_id=parent.tg_user_id))


async def set_region(ctx: Ctx, parent: Parent, effect: SetRegion) -> None:
    parent.region_zip, parent.region_state, parent.region_county = (
        effect.zip, effect.state, effect.county)


async def schedule_checkin(ctx: Ctx, parent: Parent, effect: ScheduleCheckin) -> None:
    if not parent.no_checkin:
        await ctx.schedule("checkin", effect.due_at, chat_id=parent.chat_id,
                           parent_id=parent.id, payload={"key": effect.key})


async def cancel_checkins(ctx: Ctx, parent: Parent, effect: CancelCheckins) -> None:
    await ctx.cancel_jobs(kind="checkin", parent_id=parent.id)


async def _pending_reminders(ctx: Ctx, parent: Parent, resource_id: str | None) -> list[Job]:
    jobs = await ctx.pending_jobs(MEETING_JOB, parent.chat_id)
    return [j for j in jobs if j.parent_id == parent.id
            and (resource_id is None or (j.payload or {}).get("resource") == resource_id)]


async def schedule_meeting_reminder(ctx: Ctx, parent: Parent,
                                    effect: ScheduleMeetingReminder) -> None:
    """One pending reminder per group: pressing the button twice still sends one."""
    for job in await _pending_reminders(ctx, parent, effect.resource_id):
        job.done_at = ctx.now
    await ctx.schedule(MEETING_JOB, effect.due_at, chat_id=parent.chat_id, parent_id=parent.id,
                       payload={"resource": effect.resource_id,
                                "at": effect.meeting_at.isoformat()})


async def cancel_meeting_reminders(ctx: Ctx, parent: Parent,
                                   effect: CancelMeetingReminders) -> None:
    for job in await _pending_reminders(ctx, parent, effect.resource_id):
        job.done_at = ctx.now


async def forget_confirmed(ctx: Ctx, parent: Parent, effect: ForgetConfirmed) -> None:
    await handoff.forget_parent(ctx, parent)
    await parents_mod.forget_parent(ctx, parent)
    ctx.drop_current_update = True


async def resources_shared(ctx: Ctx, parent: Parent, effect: ResourcesShared) -> None:
    await ctx.bump("resources_shared", len(effect.ids))
    before = parent.flow_data.get("resources_shared", [])
    shared = list(dict.fromkeys([*before, *effect.ids]))[-30:]
    parent.flow_data = {**parent.flow_data, "resources_shared": shared}


async def topic_chosen(ctx: Ctx, parent: Parent, effect: TopicChosen) -> None:
    await ctx.bump(f"topic:{effect.id}")
    parent.flow_data = {**parent.flow_data, "topic": effect.id}


async def plan_chosen(ctx: Ctx, parent: Parent, effect: PlanChosen) -> None:
    await ctx.bump("plans_chosen")


async def language_changed(ctx: Ctx, parent: Parent, effect: LanguageChanged) -> None:
    parent.lang = effect.lang


EFFECT_HANDLERS: dict[type[Any], EffectHandler] = {
    RequestPeer: request_peer,
    LeaveQueue: leave_queue,
    SetRegion: set_region,
    ScheduleCheckin: schedule_checkin,
    CancelCheckins: cancel_checkins,
    ScheduleMeetingReminder: schedule_meeting_reminder,
    CancelMeetingReminders: cancel_meeting_reminders,
    ForgetConfirmed: forget_confirmed,
    ResourcesShared: resources_shared,
    TopicChosen: topic_chosen,
    PlanChosen: plan_chosen,
    LanguageChanged: language_changed,
}


async def apply_effect(ctx: Ctx, parent: Parent, effect: Effect) -> None:
    handler = EFFECT_HANDLERS.get(type(effect))
    if handler is not None:
        await handler(ctx, parent, effect)
