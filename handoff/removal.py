"""A coordinator takes someone off the roster, or pauses them, from the dashboard.

Removing a specialist mid-conversation must not strand a parent: each of their active
conversations goes back to the front of the queue and the parent hears honestly that
their peer had to step away and another is coming (the same path as a specialist
Telegram can no longer reach, ``unreachable.requeue_front``); colleagues on duty are
alerted, crises as crises. A parent offered to them (push mode) is offered again.
The removed person is told once, so they don't keep typing to a parent who is no
longer theirs: from now on their messages reach the line as anyone else's.

Their dashboard sessions end with the row (``views.signed_in`` finds nobody), and a
later re-add starts a new ``sessions_valid_from``.
"""

from __future__ import annotations

from core.context import Ctx
from core.storage.models import Staff
from handoff import alerts, queries, queue, relay, roster
from handoff.duty import IDLE_JOB, SHIFT_JOB
from handoff.speech import staff_say
from handoff.unreachable import requeue_front, unreachable_ids


async def remove_from_roster(ctx: Ctx, staff: Staff) -> int:
    """Take ``staff`` off the roster; returns how many conversations went back to the queue."""
    staff_id = staff.tg_user_id
    staff.on_duty = False  # first: no alert below may go to them
    staff.paused = False
    await ctx.session.flush()
    await ctx.cancel_jobs(chat_id=staff_id, kind=SHIFT_JOB)
    await ctx.cancel_jobs(chat_id=staff_id, kind=IDLE_JOB)
    for held in await relay.pending_held(ctx, staff_id):
        held.resolved_at = ctx.now
    # A crisis first, so each parent is told the place they will really have.
    active = sorted(await queries.active_of(ctx.session, staff_id),
                    key=lambda c: c.priority != "crisis")
    moved = [c for c in active if await requeue_front(ctx, staff, c, "handoff.back_in_queue")]
    skip = [*await unreachable_ids(ctx), staff_id]
    for conv in await queries.queued(ctx.session):
        if conv.offered_staff_id == staff_id:  # push mode: the offer waits on nobody
            conv.offered_staff_id = None
            parent = await queries.parent_of(ctx.session, conv)
            await alerts.alert_waiting(ctx, conv, parent, exclude=skip)
    if moved:
        await queue.refresh_positions(ctx)
    if staff.unreachable_at is None:
        staff_say(ctx, staff, "staff.removed_from_roster", count=len(moved))
    await roster.remove_staff(ctx.session, staff_id)
    return len(moved)


def set_paused(ctx: Ctx, staff: Staff, paused: bool) -> bool:
    """Pause or resume someone on duty (as their own ``/pause`` would), and tell them.

    False when there is nothing to change: off duty, or already in that state.
    """
    if not staff.on_duty or staff.paused == paused:
        return False
    staff.paused = paused
    if staff.unreachable_at is None:
        staff_say(ctx, staff,
                  "staff.paused_by_coordinator" if paused else "staff.unpaused_by_coordinator")
    return True
