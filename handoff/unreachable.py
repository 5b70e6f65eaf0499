"""A staff member Telegram will not deliver to: off duty, and nobody left waiting on them.

Telegram answers 403 when a specialist blocked the bot, deleted their account or never
pressed Start. Until this module, only parents were handled for 403: a specialist's
conversations stayed active, every parent message was dropped on the way to them, and
a crisis reached only them. Now, on the first 403 (or the ``kicked`` update of a block):

- they are taken off duty and marked unreachable (``Staff.unreachable_at``), so no
  alert, offer or coordinator message is sent through them until they write again;
- each of their conversations goes back to the front of the queue; the parent hears
  honestly that their peer can't be reached and another is on the way;
- the on-duty colleagues get the usual alert (crisis alerts always go), the staff chat
  hears of a crisis, and coordinators are told, crisis or not. With nobody else on duty,
  a crisis goes to the coordinators at once as a crisis.

Nothing is said to the unreachable person: it could not arrive.
"""

from __future__ import annotations

from sqlalchemy import CursorResult, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.context import Ctx
from core.storage.models import Conversation, Staff
from handoff import alerts, queries, queue, relay
from handoff.claim import release
from handoff.duty import IDLE_JOB, SHIFT_JOB


async def staff_unreachable(ctx: Ctx, staff: Staff) -> None:
    """Telegram refused a message to ``staff``'s private chat. Idempotent."""
    if staff.unreachable_at is not None and not staff.on_duty:
        if not await queries.active_of(ctx.session, staff.tg_user_id):
            return  # already handled: a second 403 for the same person
    staff.unreachable_at = ctx.now
    staff.on_duty = False
    staff.paused = False
    if staff.awaiting == "advise":
        staff.awaiting = None
    await ctx.cancel_jobs(chat_id=staff.tg_user_id, kind=SHIFT_JOB)
    await ctx.cancel_jobs(chat_id=staff.tg_user_id, kind=IDLE_JOB)
    for held in await relay.pending_held(ctx, staff.tg_user_id):
        held.resolved_at = ctx.now
    await ctx.audit("system", "staff_unreachable", details={"staff": staff.tg_user_id})
    await ctx.bump("staff_unreachable")
    moved = [c for c in await queries.active_of(ctx.session, staff.tg_user_id)
             if await requeue_front(ctx, staff, c, "handoff.peer_unreachable")]
    for conv in await queries.queued(ctx.session):
        if conv.offered_staff_id == staff.tg_user_id:  # push mode: the offer went nowhere
            conv.offered_staff_id = None
            parent = await queries.parent_of(ctx.session, conv)
            await alerts.alert_waiting(ctx, conv, parent, exclude=await unreachable_ids(ctx))
    if moved:
        await queue.refresh_positions(ctx)
    await alerts.notify_coordinators(
        ctx,
        "staff.specialist_unreachable",
        exclude=await unreachable_ids(ctx),
        name=staff.name,
        count=len(moved),
    )


async def requeue_front(ctx: Ctx, staff: Staff, conv: Conversation, parent_key: str) -> bool:
    """One conversation back to the front of the queue, the parent told ``parent_key``
    (with their place), colleagues alerted — never ``staff`` nor anyone unreachable.

    Also the path of a specialist taken off the roster (``handoff.removal``)."""
    if not await release(ctx.session, conv.id, staff.tg_user_id):
        return False
    parent = await queries.parent_of(ctx.session, conv)
    if parent is not None and not parent.unreachable:
        await queue.tell_position(ctx, parent, conv, parent_key)
    skip = [*await unreachable_ids(ctx), staff.tg_user_id]
    if conv.priority == "crisis":
        await alerts.crisis_alerts(ctx, conv, parent, exclude=skip)
    else:
        await alerts.alert_waiting(ctx, conv, parent, exclude=skip)
    return True


async def unreachable_ids(ctx: Ctx) -> list[int]:
    """Staff Telegram will not deliver to: skipped by every alert and notice."""
    return [s.tg_user_id for s in await queries.unreachable_staff(ctx.session)]


def reachable_again(staff: Staff) -> None:
    """They wrote to the bot: Telegram delivers again (they go on duty themselves)."""
    staff.unreachable_at = None


async def crisis_in_place(session: AsyncSession, conv: Conversation, category: str) -> bool:
    """Mark an active conversation crisis, only if it is still with the same specialist.

    One conditional UPDATE, like a claim: on PostgreSQL a specialist's 403 may send the
    conversation back to the queue in another transaction at this very moment. Then this
    matches nothing and the caller raises the queue entry to crisis instead, so the crisis
    alert goes to colleagues and not to the person Telegram can no longer reach. If this
    wins, the release waits for it and re-queues the conversation as a crisis.
    """
    res = await session.execute(
        update(Conversation)
        .where(
            Conversation.id == conv.id,
            Conversation.status == "active",
            Conversation.specialist_id == conv.specialist_id,
        )
        .values(crisis=True, priority="crisis", crisis_category=category)
        .execution_options(synchronize_session=False)
    )
    await session.get(Conversation, conv.id, populate_existing=True)
    return isinstance(res, CursorResult) and int(res.rowcount) == 1
