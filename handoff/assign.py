"""Taking a waiting parent (/next or Take), meeting them, and "not a good fit".

The claim itself is in :mod:`handoff.claim`; this module says what happens around
it: the parent hears a peer joined (display name only), the specialist reads the
summary first, and a specialist who declines a match sends the parent back to the
front of the queue without anyone being made to feel they failed.
"""

from __future__ import annotations

from core.context import Ctx
from core.storage.models import Conversation, Parent, RelayLink, Staff
from flows.events import SendText
from handoff import alerts, queries, queue, waiting
from handoff import buttons as B
from handoff.claim import claim, release
from handoff.policy import pick_next
from handoff.speech import parent_label, staff_lang, staff_say
from handoff.summary import summary_text


def link(ctx: Ctx, conv: Conversation, staff_chat_id: int) -> RelayLink:
    """A relay link row; the sender fills ``staff_message_id`` from ``meta["relay_link"]``."""
    row = RelayLink(conversation_id=conv.id, staff_chat_id=staff_chat_id, created_at=ctx.now)
    ctx.session.add(row)
    return row


async def send_summary(
    ctx: Ctx,
    staff: Staff,
    conv: Conversation,
    parent: Parent | None,
    *,
    intro: str | None = None,
    from_name: str = "",
) -> None:
    """The summary, linked to the conversation so a reply to it reaches the parent."""
    lang = staff_lang(staff)
    chat = staff.tg_user_id
    if intro:
        staff_say(ctx, staff, intro, name=from_name)
    row = link(ctx, conv, chat)
    await ctx.session.flush()
    buttons = ((ctx.text_button(chat, "staff.btn_not_fit", lang, B.DECLINE, str(conv.id)),),)
    ctx.send(
        SendText(
            chat,
            summary_text(ctx, conv, parent, lang),
            buttons=buttons,
            meta={"relay_link": row.id},
        )
    )


async def joined(
    ctx: Ctx,
    staff: Staff,
    conv: Conversation,
    *,
    intro: str | None = None,
    from_name: str = "",
    parent_key: str | None = None,
) -> None:
    """After a won claim or a transfer: summary to the specialist, hello to the parent."""
    parent = await queries.parent_of(ctx.session, conv)
    await send_summary(ctx, staff, conv, parent, intro=intro, from_name=from_name)
    if parent is None:
        return
    parent.last_staff_id = staff.tg_user_id
    conv.quiet_checked_at = None
    await ctx.cancel_jobs(kind=queue.STALE_JOB, parent_id=parent.id)
    if ctx.settings.assignment_mode == "push":  # an offer left has nothing to expire
        await ctx.cancel_jobs(kind=alerts.OFFER_JOB, parent_id=parent.id)
    await waiting.restart_answer_clock(ctx, parent, conv)
    if not parent.unreachable:
        key = parent_key or (
            "handoff.peer_joined_after_hours" if conv.after_hours else "handoff.peer_joined"
        )
        ctx.say(parent.chat_id, key, parent.lang, name=staff.name)


async def take(ctx: Ctx, staff: Staff, conv_id: int) -> bool:
    """Claim ``conv_id`` for ``staff`` and start the relay; every loser is told kindly."""
    if not staff.on_duty:
        staff_say(ctx, staff, "staff.not_on_duty")
        return False
    outcome = await claim(ctx.session, conv_id, staff.tg_user_id, ctx.now)
    if outcome == "cap":
        staff_say(ctx, staff, "staff.at_cap", max_active=staff.max_active)
        return False
    if outcome == "taken":
        staff_say(ctx, staff, "staff.already_taken")
        return False
    if outcome in ("gone", "off_duty"):
        staff_say(ctx, staff, "staff.conv_gone" if outcome == "gone" else "staff.not_on_duty")
        return False
    conv = await ctx.session.get(Conversation, conv_id)
    if conv is None:
        return False
    await ctx.bump("handoffs")
    await joined(ctx, staff, conv)
    if conv.priority == "crisis":
        await waiting.crisis_taken(ctx, conv, staff)
    await queue.refresh_positions(ctx)
    return True


async def take_next(ctx: Ctx, staff: Staff) -> None:
    """``/next``: the best-fitting waiting parent (crisis first, then the longest wait)."""
    if not staff.on_duty:
        staff_say(ctx, staff, "staff.not_on_duty")
        return
    active = await queries.active_count(ctx.session, staff.tg_user_id)
    if active >= staff.max_active:
        staff_say(ctx, staff, "staff.at_cap", max_active=staff.max_active)
        return
    views = [queries.queue_view(c) for c in await queries.queued(ctx.session)]
    me = queries.staff_view(staff, active)
    tried: set[int] = set()
    while True:
        choice = pick_next(me, [v for v in views if v.id not in tried])
        if choice is None:
            staff_say(ctx, staff, "staff.queue_empty")
            return
        tried.add(choice.id)
        outcome = await claim(ctx.session, choice.id, staff.tg_user_id, ctx.now)
        if outcome == "won":
            conv = await ctx.session.get(Conversation, choice.id)
            if conv is not None:
                await ctx.bump("handoffs")
                await joined(ctx, staff, conv)
                if conv.priority == "crisis":
                    await waiting.crisis_taken(ctx, conv, staff)
                await queue.refresh_positions(ctx)
            return
        if outcome in ("cap", "off_duty"):
            key = "staff.at_cap" if outcome == "cap" else "staff.not_on_duty"
            staff_say(ctx, staff, key, max_active=staff.max_active)
            return


async def rematch(
    ctx: Ctx, conv: Conversation, staff: Staff, *, parent_key: str, staff_key: str
) -> None:
    """Back to the front of the queue, away from ``staff``, and everyone told gently."""
    if not await release(ctx.session, conv.id, staff.tg_user_id):
        return
    if staff.tg_user_id not in (conv.declined_by or []):
        conv.declined_by = [*(conv.declined_by or []), staff.tg_user_id]
    parent = await queries.parent_of(ctx.session, conv)
    staff_say(ctx, staff, staff_key, who=_who(ctx, staff, parent))
    if parent is not None and not parent.unreachable:
        await queue.tell_position(ctx, parent, conv, parent_key)
    await alerts.alert_waiting(ctx, conv, parent, exclude=[staff.tg_user_id])
    await queue.refresh_positions(ctx)


def _who(ctx: Ctx, staff: Staff, parent: Parent | None) -> str:
    return parent_label(ctx, parent, staff_lang(staff))


async def decline(ctx: Ctx, staff: Staff, conv_id: int) -> None:
    """ "Not a good fit": on an offer (push mode) or on the summary of a new match."""
    conv = await ctx.session.get(Conversation, conv_id)
    if conv is None or conv.status == "ended":
        staff_say(ctx, staff, "staff.conv_gone")
        return
    if conv.status == "active" and conv.specialist_id == staff.tg_user_id:
        await rematch(ctx, conv, staff, parent_key="handoff.rematch", staff_key="staff.declined_ok")
        return
    if conv.status == "queued":
        if staff.tg_user_id not in (conv.declined_by or []):
            conv.declined_by = [*(conv.declined_by or []), staff.tg_user_id]
        conv.offered_staff_id = None
        staff_say(ctx, staff, "staff.declined_offer")
        parent = await queries.parent_of(ctx.session, conv)
        await alerts.alert_waiting(ctx, conv, parent, exclude=[staff.tg_user_id])
        return
    staff_say(ctx, staff, "staff.already_taken")
