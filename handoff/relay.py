"""Carrying messages between a parent and their peer specialist, both ways.

Messages are copied (``copyMessage``), so the parent never sees the specialist's
account and vice versa. A specialist with several parents answers by replying to that
parent's message; anything the line cannot place for certain is held and asked
about — never guessed, never dropped. A message that reads like clinical advice is
held once with "send anyway / edit", except in a crisis conversation.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from core.context import Ctx, NotReadyYet
from core.storage.models import Conversation, HeldMessage, OutboxRow, Parent, RelayLink, Staff
from flows.events import RELAYABLE_MEDIA, CopyMessage, CopyMessages, EditText, Inbound
from handoff import albums, queries, waiting
from handoff import buttons as B
from handoff.assign import link
from handoff.speech import parent_label, staff_lang, staff_say

QUIET_JOB = "h.quiet"


def looks_clinical(text: str | None, lang: str | None) -> bool:
    """The safety module decides what reads as clinical advice (a peer's story is not)."""
    if not text:
        return False
    from flows.safety.nudge import looks_like_clinical_advice

    return looks_like_clinical_advice(text, lang) is not None


# --- parent -> specialist ----------------------------------------------------------------


async def _needs_label(ctx: Ctx, staff_chat: int, conv: Conversation, active: int) -> bool:
    """With several parents, say whose message this is when the speaker changes."""
    if active <= 1:
        return False
    last = await ctx.session.scalar(
        select(RelayLink.conversation_id)
        .where(RelayLink.staff_chat_id == staff_chat)
        .order_by(RelayLink.id.desc())
        .limit(1)
    )
    return last != conv.id


async def from_parent(ctx: Ctx, parent: Parent, conv: Conversation, ev: Inbound) -> None:
    """Relay a parent's message (text or media) to their specialist."""
    if conv.specialist_id is None or ev.message_id is None:
        return
    lang = parent.lang
    if ev.kind == "media":
        if ev.media not in RELAYABLE_MEDIA:
            ctx.say(parent.chat_id, "handoff.media_unsupported", lang)
            return
        if not ctx.settings.media_relay:
            ctx.say(parent.chat_id, "handoff.media_off", lang)
            return
        if not parent.media_notice_given:
            parent.media_notice_given = True
            ctx.say(parent.chat_id, "handoff.media_notice", lang)
    if ev.media_group_id is not None:
        await albums.add(ctx, conv, ev)  # the album is copied as one, in a moment
        return
    await _to_specialist(ctx, parent, conv, (ev.message_id,))


async def flush_album(ctx: Ctx, conv_id: int, side: albums.Side = "parent") -> None:
    """Copy an album to the other side, as one album."""
    taken = await albums.take(ctx, conv_id, side)
    if taken is None:
        return
    conv, ids = taken
    if conv.status != "active" or conv.specialist_id is None:
        return  # ended or moved meanwhile; the items were screened and are in the inbox
    if side == "staff":
        staff = await ctx.session.get(Staff, conv.specialist_id)
        if staff is not None:  # the specialist it was sent by (a transfer ends the batch)
            await deliver(ctx, staff, conv, staff.tg_user_id, tuple(ids))
        return
    parent = await ctx.session.get(Parent, conv.parent_id)
    if parent is not None:
        await _to_specialist(ctx, parent, conv, tuple(ids))


async def _to_specialist(ctx: Ctx, parent: Parent, conv: Conversation,
                         message_ids: tuple[int, ...]) -> None:
    """Copy one message, or an album's messages together, to the specialist."""
    assert conv.specialist_id is not None
    staff = await ctx.session.get(Staff, conv.specialist_id)
    staff_chat = conv.specialist_id
    active = await queries.active_count(ctx.session, staff_chat)
    if staff is not None and await _needs_label(ctx, staff_chat, conv, active):
        staff_say(ctx, staff, "staff.relay_from", who=parent_label(ctx, parent, staff_lang(staff)))
    row = link(ctx, conv, staff_chat)
    await ctx.session.flush()
    meta = {"relay_link": row.id}
    if len(message_ids) == 1:
        ctx.send(CopyMessage(chat_id=staff_chat, from_chat_id=parent.chat_id,
                             message_id=message_ids[0], meta=meta))
    else:
        ctx.send(CopyMessages(chat_id=staff_chat, from_chat_id=parent.chat_id,
                              message_ids=message_ids, meta=meta))
    conv.last_parent_msg_at = ctx.now
    conv.quiet_checked_at = None
    await ctx.cancel_jobs(kind=QUIET_JOB, parent_id=parent.id)
    await waiting.parent_waits(ctx, parent, conv)


# --- specialist -> parent ----------------------------------------------------------------


IN_FLIGHT_GRACE = timedelta(seconds=5)


async def conv_of_reply(ctx: Ctx, staff: Staff, reply_to: int | None) -> Conversation | None:
    """The conversation a specialist's reply belongs to, via the relayed message."""
    if reply_to is None:
        return None
    conv_id = await ctx.session.scalar(
        select(RelayLink.conversation_id)
        .where(
            RelayLink.staff_chat_id == staff.tg_user_id,
            RelayLink.staff_message_id == reply_to,
        )
        .order_by(RelayLink.id.desc())
        .limit(1)
    )
    if conv_id is None and await _link_in_flight(ctx, staff, reply_to):
        # The relayed copy is still on its way (Telegram hasn't told us its id yet): try
        # this update again in a moment rather than asking "which parent?" needlessly.
        raise NotReadyYet("relay link not recorded yet")
    return await ctx.session.get(Conversation, conv_id) if conv_id is not None else None


async def _link_in_flight(ctx: Ctx, staff: Staff, reply_to: int) -> bool:
    """Could ``reply_to`` be a copy whose id is about to be recorded?

    Message ids grow within a chat, so a reply to a message older than the newest
    recorded copy is not waiting for anything (its copy's answer was lost, and the
    specialist is asked which parent it is for). Waiting is bounded by the grace period.
    """
    if not ctx.may_wait:
        return False
    newest = await ctx.session.scalar(
        select(func.max(RelayLink.staff_message_id)).where(
            RelayLink.staff_chat_id == staff.tg_user_id
        )
    )
    if newest is not None and reply_to <= newest:
        return False
    pending = await ctx.session.scalar(
        select(RelayLink.id)
        .where(
            RelayLink.staff_chat_id == staff.tg_user_id,
            RelayLink.staff_message_id.is_(None),
            RelayLink.created_at > ctx.now - IN_FLIGHT_GRACE,
        )
        .limit(1)
    )
    return pending is not None


async def deliver(
    ctx: Ctx, staff: Staff, conv: Conversation, from_chat: int, message_id: int | tuple[int, ...]
) -> None:
    """Copy the specialist's message (or album) to the parent; note the first response."""
    parent = await queries.parent_of(ctx.session, conv)
    if parent is None or parent.unreachable:
        staff_say(
            ctx, staff, "staff.parent_unreachable", who=parent_label(ctx, parent, staff_lang(staff))
        )
        return
    ids = message_id if isinstance(message_id, tuple) else (message_id,)
    if len(ids) == 1:
        ctx.send(CopyMessage(chat_id=parent.chat_id, from_chat_id=from_chat,
                             message_id=ids[0], meta={"conversation": conv.id}))
    else:
        ctx.send(CopyMessages(chat_id=parent.chat_id, from_chat_id=from_chat,
                              message_ids=ids, meta={"conversation": conv.id}))
    await answered(ctx, parent, conv)


async def answered(ctx: Ctx, parent: Parent, conv: Conversation) -> None:
    """The specialist said something to the parent (a copy, a saved reply, a resource):
    note the first response time, stop the "are you there?" clocks, restart the quiet one."""
    if conv.first_response_at is None:
        conv.first_response_at = ctx.now
    await waiting.answered(ctx, parent, conv)
    if not conv.crisis:
        await ctx.cancel_jobs(kind=QUIET_JOB, parent_id=parent.id)
        await ctx.schedule(
            QUIET_JOB,
            ctx.now + timedelta(minutes=ctx.settings.parent_quiet_minutes),
            chat_id=parent.chat_id,
            parent_id=parent.id,
            payload={"conv": conv.id, "stage": 1},
        )


def _hold(
    ctx: Ctx, staff: Staff, ev: Inbound, reason: str, conv: Conversation | None, clinical: bool
) -> HeldMessage:
    held = HeldMessage(
        staff_id=staff.tg_user_id,
        chat_id=ev.chat_id,
        message_id=ev.message_id or 0,
        reason=reason,
        conversation_id=conv.id if conv else None,
        created_at=ctx.now,
        looks_clinical=clinical,
    )
    ctx.session.add(held)
    return held


async def ask_nudge(ctx: Ctx, staff: Staff, held: HeldMessage) -> None:
    lang, chat = staff_lang(staff), staff.tg_user_id
    ctx.say(
        chat,
        "staff.nudge",
        lang,
        reply_to=held.message_id,
        buttons=(
            (
                ctx.text_button(chat, "staff.btn_send_anyway", lang, B.NUDGE_SEND, str(held.id)),
                ctx.text_button(chat, "staff.btn_edit", lang, B.NUDGE_EDIT, str(held.id)),
            ),
        ),
    )


def _nudge_applies(ctx: Ctx, conv: Conversation) -> bool:
    return ctx.settings.specialist_nudge and not conv.crisis


async def send_or_nudge(
    ctx: Ctx, staff: Staff, conv: Conversation, ev: Inbound, clinical: bool
) -> None:
    if clinical and _nudge_applies(ctx, conv):
        held = _hold(ctx, staff, ev, "nudge", conv, clinical)
        await ctx.session.flush()
        await ask_nudge(ctx, staff, held)
        return
    await deliver(ctx, staff, conv, ev.chat_id, ev.message_id or 0)


async def from_staff(ctx: Ctx, staff: Staff, ev: Inbound) -> None:
    """Route a specialist's message to the right parent, or hold it and ask."""
    if ev.message_id is None:
        return
    if ev.kind == "media":
        if ev.media not in RELAYABLE_MEDIA:
            staff_say(ctx, staff, "staff.media_unsupported")
            return
        if not ctx.settings.media_relay:
            staff_say(ctx, staff, "staff.media_off")
            return
    conv = await conv_of_reply(ctx, staff, ev.reply_to_message_id)
    active = await queries.active_of(ctx.session, staff.tg_user_id)
    if conv is not None and (conv.status != "active" or conv.specialist_id != staff.tg_user_id):
        staff_say(ctx, staff, "staff.conv_not_yours")
        return
    clinical = ctx.settings.specialist_nudge and looks_clinical(ev.text, None)
    if conv is None:
        if not active:
            staff_say(ctx, staff, "staff.no_active")
            return
        if len(active) == 1:
            conv = active[0]
        else:
            held = _hold(ctx, staff, ev, "ambiguous", None, clinical)
            await ctx.session.flush()
            await ask_which(ctx, staff, held, active)
            return
    if ev.media_group_id is not None and not (clinical and _nudge_applies(ctx, conv)):
        await albums.add(ctx, conv, ev, "staff")  # copied to the parent as one album
        return
    await send_or_nudge(ctx, staff, conv, ev, clinical)


async def ask_which(ctx: Ctx, staff: Staff, held: HeldMessage, active: list[Conversation]) -> None:
    """ "Which parent is this for?" — one button per active conversation."""
    lang, chat = staff_lang(staff), staff.tg_user_id
    rows = []
    for c in active:
        parent = await queries.parent_of(ctx.session, c)
        label = parent_label(ctx, parent, lang)
        rows.append((ctx.button(chat, label, B.TO, f"{held.id}:{c.id}"),))
    ctx.say(chat, "staff.which_parent", lang, reply_to=held.message_id, buttons=tuple(rows))


async def _open_held(ctx: Ctx, staff: Staff, held_id: int | None) -> HeldMessage | None:
    held = await ctx.session.get(HeldMessage, held_id) if held_id is not None else None
    if held is None or held.staff_id != staff.tg_user_id or held.resolved_at is not None:
        staff_say(ctx, staff, "staff.held_gone")
        return None
    return held


async def assign_held(ctx: Ctx, staff: Staff, arg: str) -> None:
    """The specialist said which parent a held message is for."""
    pair = B.int_pair(arg)
    if pair is None:
        staff_say(ctx, staff, "staff.held_gone")
        return
    held = await _open_held(ctx, staff, pair[0])
    if held is None:
        return
    conv = await ctx.session.get(Conversation, pair[1])
    if conv is None or conv.status != "active" or conv.specialist_id != staff.tg_user_id:
        staff_say(ctx, staff, "staff.conv_not_yours")
        return
    held.conversation_id = conv.id
    if held.looks_clinical and _nudge_applies(ctx, conv):
        held.reason = "nudge"
        await ask_nudge(ctx, staff, held)
        return
    held.resolved_at = ctx.now
    await deliver(ctx, staff, conv, held.chat_id, held.message_id)
    staff_say(
        ctx,
        staff,
        "staff.held_sent",
        who=parent_label(ctx, await queries.parent_of(ctx.session, conv), staff_lang(staff)),
    )


async def nudge_answer(ctx: Ctx, staff: Staff, arg: str, send: bool) -> None:
    """ "Send anyway" relays the held message; "edit" drops it so they can write again."""
    held = await _open_held(ctx, staff, B.to_int(arg))
    if held is None:
        return
    conv = (
        await ctx.session.get(Conversation, held.conversation_id)
        if held.conversation_id is not None
        else None
    )
    held.resolved_at = ctx.now
    if not send:
        staff_say(ctx, staff, "staff.nudge_edit")
        return
    if conv is None or conv.status != "active" or conv.specialist_id != staff.tg_user_id:
        staff_say(ctx, staff, "staff.conv_not_yours")
        return
    await deliver(ctx, staff, conv, held.chat_id, held.message_id)
    staff_say(ctx, staff, "staff.nudge_sent")


async def pending_held(ctx: Ctx, staff_id: int) -> list[HeldMessage]:
    rows = await ctx.session.scalars(
        select(HeldMessage).where(
            HeldMessage.staff_id == staff_id, HeldMessage.resolved_at.is_(None)
        )
    )
    return list(rows)


# --- a specialist's edit -------------------------------------------------------------------


async def edit_from_staff(ctx: Ctx, staff: Staff, ev: Inbound) -> None:
    """A specialist edited a message they sent: the parent's copy is edited the same way.

    The copy is found through its outbox row (``copyMessage`` from this chat and message,
    kept at least two days with the copy's id). A held message needs nothing: it is copied
    as it reads when it is sent. An edit that cannot be carried (a caption, the copy gone,
    the conversation over, or words the clinical-advice nudge would hold) is said so.
    """
    if ev.message_id is None or (ev.text or "").startswith("/"):
        return  # a command typed again is not a message to the parent
    held = await ctx.session.scalar(select(HeldMessage.id).where(
        HeldMessage.staff_id == staff.tg_user_id, HeldMessage.message_id == ev.message_id,
        HeldMessage.resolved_at.is_(None)).limit(1))
    if held is not None:
        return
    active = await queries.active_of(ctx.session, staff.tg_user_id)
    chats: dict[int, Conversation] = {}
    for c in active:
        parent = await queries.parent_of(ctx.session, c)
        if parent is not None and not parent.unreachable:
            chats[parent.chat_id] = c
    copy = None
    if chats:
        copy = (await ctx.session.execute(
            select(OutboxRow.chat_id, OutboxRow.status, OutboxRow.message_id)
            .where(OutboxRow.chat_id.in_(list(chats)), OutboxRow.method == "copyMessage",
                   OutboxRow.params["from_chat_id"].as_integer() == staff.tg_user_id,
                   OutboxRow.params["message_id"].as_integer() == ev.message_id)
            .order_by(OutboxRow.id.desc()).limit(1))).first()
    if copy is not None and copy.status == "pending" and ctx.may_wait:
        raise NotReadyYet("the copy of the edited message is still on its way")
    conv = chats.get(copy.chat_id) if copy is not None and copy.chat_id is not None else None
    if (copy is None or copy.message_id is None or conv is None or ev.media is not None
            or not ev.text
            or (_nudge_applies(ctx, conv) and ctx.settings.specialist_nudge
                and looks_clinical(ev.text, None))):
        staff_say(ctx, staff, "staff.edit_not_relayed")
        return
    ctx.send(EditText(int(copy.chat_id), int(copy.message_id), ev.text))
