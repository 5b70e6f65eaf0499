"""Moving a conversation: /transfer, /newpeer, and handing over at the end of a shift.

A conversation goes either straight to another on-duty specialist (under their cap,
best fit first) with its summary and notes, or back to the FRONT of the queue. The
parent is told kindly and keeps their place; nobody is shamed for a mismatch.
"""

from __future__ import annotations

from core.context import Ctx
from core.storage.models import Conversation, Staff
from handoff import alerts, assign, queries, queue
from handoff import buttons as B
from handoff.claim import move, release
from handoff.policy import best_specialist, can_take
from handoff.speech import parent_label, staff_lang, staff_say

NOTE_MAX = 500


def add_handoff_note(conv: Conversation, note: str) -> None:
    note = note.strip()
    if note:
        conv.handoff_notes = [*(conv.handoff_notes or []), note[:NOTE_MAX]]


async def offer_transfer(ctx: Ctx, staff: Staff, conv: Conversation, note: str) -> None:
    """``/transfer [note]``: buttons for each colleague who can take it, or the queue."""
    add_handoff_note(conv, note)
    lang, chat = staff_lang(staff), staff.tg_user_id
    rows = []
    for s in await queries.on_duty(ctx.session):
        if s.tg_user_id == staff.tg_user_id:
            continue
        active = await queries.active_count(ctx.session, s.tg_user_id)
        if not can_take(queries.staff_view(s, active)):
            continue
        label = ctx.text("staff.transfer_to", lang, name=s.name, active=active, max=s.max_active)
        rows.append((ctx.button(chat, label, B.XFER, f"{conv.id}:{s.tg_user_id}"),))
    rows.append((ctx.text_button(chat, "staff.btn_to_queue", lang, B.XFER_QUEUE, str(conv.id)),))
    parent = await queries.parent_of(ctx.session, conv)
    ctx.say(
        chat,
        "staff.transfer_choose",
        lang,
        buttons=tuple(rows),
        who=parent_label(ctx, parent, lang),
    )


async def _own_active(ctx: Ctx, staff: Staff, conv_id: int | None) -> Conversation | None:
    conv = await ctx.session.get(Conversation, conv_id) if conv_id is not None else None
    if conv is None or conv.status != "active" or conv.specialist_id != staff.tg_user_id:
        staff_say(ctx, staff, "staff.conv_not_yours")
        return None
    return conv


async def hand_to(ctx: Ctx, staff: Staff, conv: Conversation, to: Staff) -> bool:
    """Move ``conv`` to ``to``; they get the summary, the parent hears the new name."""
    outcome = await move(ctx.session, conv.id, staff.tg_user_id, to.tg_user_id, ctx.now)
    if outcome != "won":
        return False
    await assign.joined(
        ctx,
        to,
        conv,
        intro="staff.handed_over_to_you",
        from_name=staff.name,
        parent_key="handoff.peer_changed",
    )
    return True


async def transfer_to(ctx: Ctx, staff: Staff, arg: str) -> None:
    pair = B.int_pair(arg)
    conv = await _own_active(ctx, staff, pair[0] if pair else None)
    if conv is None or pair is None:
        return
    to = await ctx.session.get(Staff, pair[1])
    if to is None or not await hand_to(ctx, staff, conv, to):
        staff_say(ctx, staff, "staff.transfer_failed")
        return
    staff_say(ctx, staff, "staff.transfer_done", name=to.name)


async def to_queue(ctx: Ctx, staff: Staff, conv: Conversation, *, staff_key: str) -> None:
    """Back to the front of the queue; the parent hears it kindly; others are alerted."""
    if not await release(ctx.session, conv.id, staff.tg_user_id):
        return
    parent = await queries.parent_of(ctx.session, conv)
    staff_say(ctx, staff, staff_key, who=parent_label(ctx, parent, staff_lang(staff)))
    if parent is not None and not parent.unreachable:
        await queue.tell_position(ctx, parent, conv, "handoff.back_in_queue")
    await alerts.alert_waiting(ctx, conv, parent, exclude=[staff.tg_user_id])
    await queue.refresh_positions(ctx)


async def transfer_to_queue(ctx: Ctx, staff: Staff, arg: str) -> None:
    conv = await _own_active(ctx, staff, B.to_int(arg))
    if conv is not None:
        await to_queue(ctx, staff, conv, staff_key="staff.transfer_queued")


async def new_peer(ctx: Ctx, conv: Conversation) -> None:
    """The parent asked for a different peer: front of the queue, specialist told kindly."""
    staff = await ctx.session.get(Staff, conv.specialist_id) if conv.specialist_id else None
    if staff is None:
        return
    await assign.rematch(
        ctx, conv, staff, parent_key="handoff.newpeer_ok", staff_key="staff.parent_asked_newpeer"
    )


async def hand_over_all(ctx: Ctx, staff: Staff) -> tuple[int, int]:
    """End of shift: each active conversation to a colleague, or to the front of the queue.

    Returns (handed to colleagues, back in the queue).
    """
    handed = queued = 0
    for conv in await queries.active_of(ctx.session, staff.tg_user_id):
        views = [v for v in await queries.duty_views(ctx.session) if v.id != staff.tg_user_id]
        best = best_specialist(queries.queue_view(conv), views)
        to = await ctx.session.get(Staff, best.id) if best is not None else None
        if to is not None and await hand_to(ctx, staff, conv, to):
            handed += 1
            continue
        await to_queue(ctx, staff, conv, staff_key="staff.offduty_requeued")
        queued += 1
    return handed, queued
