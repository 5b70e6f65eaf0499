"""The handoff's public API: what the pipeline calls, with plain events and one Ctx.

Every function here takes untrusted input (a command, a pressed button, a message)
and must never raise on it: unknown things get a kind answer or are ignored. All
state is in the database through ``ctx.session``; every reply goes out through ``ctx``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.context import Ctx
from core.storage.models import Conversation, Parent, Staff
from flows.callbacks import decode
from flows.events import RELAYABLE_MEDIA, AnswerCallback, Inbound
from handoff import (
    albums,
    alerts,
    assign,
    coord,
    duty,
    ending,
    queries,
    queue,
    relay,
    support,
    timers,
    tools,
)
from handoff import buttons as B
from handoff import transfer as xfer
from handoff.queue import Card
from handoff.speech import parent_label, staff_lang, staff_say
from handoff.unreachable import crisis_in_place, staff_unreachable

__all__ = [  # the staff commands' table is bot/app/staff_router.STAFF_COMMANDS
    "Card",
    "delivery_failed",
    "escalate_crisis",
    "find_command",
    "forget_parent",
    "internal_job",
    "off_duty",
    "on_conversation",
    "on_duty",
    "open_conversation",
    "parent_button",
    "parent_event",
    "pause",
    "request_peer",
    "saved_reply_command",
    "show_queue",
    "show_who",
    "staff_event",
    "staff_help",
    "take_next",
    "unknown_command",
]


# --- parents ---------------------------------------------------------------------------------


async def open_conversation(ctx: Ctx, parent: Parent) -> Conversation | None:
    """The parent's queued or active conversation, if any."""
    return await queries.open_conversation_of(ctx.session, parent.id)


async def request_peer(
    ctx: Ctx,
    parent: Parent,
    *,
    priority: str = "normal",
    crisis_category: str | None = None,
    experience: str | None = None,
    chosen: bool = False,
    note: str | None = None,
    card: Card | None = None,
) -> Conversation:
    """A sent handoff card or a crisis: queue the parent (or raise their entry to crisis)
    and tell people."""
    crisis = priority == "crisis"
    conv, created = await queue.enqueue(
        ctx,
        parent,
        priority="crisis" if crisis else "normal",
        crisis_category=crisis_category,
        experience=experience,
        note=note,
        chosen=chosen,
        card=card,
    )
    if conv.status == "active":
        if not crisis:
            ctx.say(parent.chat_id, "handoff.already_with_peer", parent.lang)
        return conv
    if not created and not crisis:
        await queue.tell_position(ctx, parent, conv, "handoff.still_queued")
        return conv
    duty_views = await queries.duty_views(ctx.session)
    if not any(not s.paused for s in duty_views) and not (crisis and duty_views):
        if created or not conv.after_hours:
            await queue.tell_nobody_on_duty(ctx, parent, conv)
        if crisis:
            await alerts.crisis_alerts(ctx, conv, parent)
        return conv
    if crisis:
        await queue.tell_position(ctx, parent, conv, "handoff.crisis_queued")
        await alerts.crisis_alerts(ctx, conv, parent)
        return conv
    asked = await queue.ask_language_choice(ctx, parent, conv)
    await queue.ask_experience_choice(ctx, parent, conv)
    await queue.tell_position(ctx, parent, conv, "handoff.queued")
    await alerts.alert_waiting(ctx, conv, parent)
    if not asked:
        alerts.staff_chat(ctx, "staff.chat_new", conv, parent)
    else:
        alerts.staff_chat(ctx, "staff.chat_new_language", conv, parent)
    await queue.schedule_stale(ctx, parent, conv)
    return conv


async def escalate_crisis(
    ctx: Ctx, parent: Parent, category: str, evidence: tuple[str, ...]
) -> Conversation:
    """After the pipeline sent the crisis lines: a person, now, and a record of why.

    Returns the parent's open conversation, now marked crisis (active with a peer, or
    at the front of the queue)."""
    await ctx.bump("crisis_escalations")
    await ctx.audit(
        "bot",
        "crisis_escalation",
        pseudonym=parent.pseudonym,
        category=category,
        evidence=list(evidence),
    )
    await ctx.cancel_jobs(kind=relay.QUIET_JOB, parent_id=parent.id)
    conv = await queries.open_conversation_of(ctx.session, parent.id)
    if conv is not None and conv.status == "active" and await crisis_in_place(
        ctx.session, conv, category
    ):
        staff = await ctx.session.get(Staff, conv.specialist_id) if conv.specialist_id else None
        if staff is not None:
            staff_say(
                ctx,
                staff,
                "staff.crisis_in_conversation",
                who=parent_label(ctx, parent, staff_lang(staff)),
                category=category,
            )
        alerts.staff_chat(ctx, "staff.chat_crisis", conv, parent)
        return conv
    return await request_peer(ctx, parent, priority="crisis", crisis_category=category)


async def parent_event(ctx: Ctx, parent: Parent, conv: Conversation, ev: Inbound) -> None:
    """A parent's message, command or button while queued or with a peer."""
    parent.last_seen_at = ctx.now
    if ev.kind == "callback":
        await _parent_button(ctx, parent, ev)
        return
    if ev.kind == "command":
        await _parent_command(ctx, parent, conv, ev)
        return
    if conv.status == "queued":
        if ev.kind == "text" and ev.text:
            queue.add_waiting_note(ctx, parent, conv, ev.text)
        elif ev.kind == "media":
            ctx.say(parent.chat_id, "handoff.queued_media", parent.lang)
        return
    if conv.status != "active":
        return
    if ev.kind in ("text", "media"):
        await relay.from_parent(ctx, parent, conv, ev)
    elif ev.kind == "edited":
        ctx.say(parent.chat_id, "handoff.edit_not_shown", parent.lang)


async def parent_button(ctx: Ctx, parent: Parent, ev: Inbound) -> None:
    """An ``h.`` button from a parent with no open conversation (e.g. the survey after /end)."""
    await _parent_button(ctx, parent, ev)


async def _parent_command(ctx: Ctx, parent: Parent, conv: Conversation, ev: Inbound) -> None:
    cmd = ev.command or ""
    if conv.status == "queued":
        if cmd in ("stop", "end", "leave"):
            await queue.leave_queue(ctx, parent, conv)
        elif cmd == "talk":
            await queue.tell_position(ctx, parent, conv, "handoff.still_queued")
        else:
            ctx.say(parent.chat_id, "handoff.queued_commands", parent.lang)
        return
    if cmd in ("end", "stop"):
        await ending.end(ctx, conv, "parent")
    elif cmd == "newpeer":
        await xfer.new_peer(ctx, conv)
    else:
        ctx.say(parent.chat_id, "handoff.active_commands", parent.lang)


async def _parent_button(ctx: Ctx, parent: Parent, ev: Inbound) -> None:
    cb = decode(ctx.secret, ev.chat_id, ev.callback_data)
    if ev.callback_id:
        ctx.send(AnswerCallback(ev.callback_id))
    if cb is None or not cb.action.startswith("h."):
        ctx.say(parent.chat_id, "handoff.button_expired", parent.lang)
        return
    if cb.action in (B.SURVEY_HEARD, B.SURVEY_HELPFUL):
        await ending.survey_answer(ctx, parent, cb.action, cb.arg)
        return
    if cb.action == B.SURVEY_SKIP:
        ending.survey_skip(ctx, parent)
        return
    conv_id = B.to_int(cb.arg)
    conv = await ctx.session.get(Conversation, conv_id) if conv_id is not None else None
    if conv is None or conv.parent_id != parent.id or conv.status == "ended":
        ctx.say(parent.chat_id, "handoff.button_expired", parent.lang)
        return
    lang, chat = parent.lang, parent.chat_id
    if cb.action in (B.LEAVE, B.STILL_NO) and conv.status == "queued":
        await queue.leave_queue(ctx, parent, conv)
    elif cb.action == B.STILL_YES and conv.status == "queued":
        conv.stale_asked_at = None
        ctx.say(chat, "handoff.still_waiting_ok", lang)
        await queue.schedule_stale(ctx, parent, conv)
    elif cb.action == B.WAIT_LANG and conv.status == "queued":
        conv.any_language_ok = False
        ctx.say(chat, "handoff.will_wait_language", lang)
    elif cb.action == B.GO_AHEAD and conv.status == "queued":
        conv.any_language_ok = True
        ctx.say(chat, "handoff.any_language_ok", lang)
        await alerts.alert_waiting(ctx, conv, parent)
    elif cb.action == B.WAIT_EXPERIENCE and conv.status == "queued":
        label = ctx.content.experience_label(conv.requested_experience or "", lang)
        ctx.say(chat, "handoff.will_wait_experience", lang, experience=label)
    elif cb.action == B.NEXT_PEER and conv.status == "queued":
        conv.experience_only = False
        ctx.say(chat, "handoff.next_peer_ok", lang)
        await alerts.alert_waiting(ctx, conv, parent)
    elif cb.action == B.PARENT_END and conv.status == "active":
        await ending.end(ctx, conv, "parent")
    else:
        ctx.say(chat, "handoff.button_expired", lang)


async def delivery_failed(ctx: Ctx, chat_id: int) -> None:
    """Telegram said 403 for a private chat: a parent or a staff member blocked the bot,
    deleted their account or never pressed Start."""
    staff = await ctx.session.get(Staff, chat_id) if chat_id > 0 else None
    if staff is not None:
        await staff_unreachable(ctx, staff)
        return
    parent = await ctx.session.scalar(select(Parent).where(Parent.chat_id == chat_id).limit(1))
    if parent is None:
        return
    parent.unreachable = True
    conv = await queries.open_conversation_of(ctx.session, parent.id)
    if conv is not None:
        await ending.end(ctx, conv, "unreachable")


async def forget_parent(ctx: Ctx, parent: Parent) -> None:
    """Before /forget deletes the parent: end their conversation politely on the staff side."""
    conv = await queries.open_conversation_of(ctx.session, parent.id)
    if conv is not None:
        await ending.end(ctx, conv, "forget")
    await ctx.cancel_jobs(parent_id=parent.id)


# --- jobs ------------------------------------------------------------------------------------


async def internal_job(ctx: Ctx, kind: str, payload: dict[str, Any]) -> None:
    """A job the handoff scheduled (``h.quiet``, ``h.stale``, ``h.shift``, ``h.idle``)."""
    if kind in timers.KINDS:
        await timers.run(ctx, kind, payload or {})
    elif kind == albums.FLUSH_JOB:
        side: albums.Side = "staff" if (payload or {}).get("side") == "staff" else "parent"
        await relay.flush_album(ctx, int((payload or {}).get("conv", 0)), side)


async def album_item(ctx: Ctx, conv: Conversation, ev: Inbound) -> None:
    """The 2nd and later items of a parent's album: with a peer, they join the album on its
    way to them (the first item already got whatever answer the album needed)."""
    if (conv.status == "active" and conv.specialist_id is not None and ctx.settings.media_relay
            and ev.media in RELAYABLE_MEDIA):
        await albums.add(ctx, conv, ev)


# --- staff -----------------------------------------------------------------------------------

_PICK_ANY = {"end", "transfer", "consult", "report"}


async def staff_event(ctx: Ctx, staff: Staff, ev: Inbound) -> None:
    """A staff member's button, message or edit in their private chat with the bot.

    Commands do not come here: ``bot/app/staff_router.py`` holds the one table of staff
    commands and calls the handlers below (``on_duty`` ... ``staff_help``)."""
    staff.last_active_at = ctx.now
    if ev.kind == "callback":
        await _staff_button(ctx, staff, ev)
    elif ev.kind in ("text", "media"):
        await _staff_message(ctx, staff, ev)
    elif ev.kind == "edited":
        await relay.edit_from_staff(ctx, staff, ev)  # the parent's copy is edited too


async def _staff_message(ctx: Ctx, staff: Staff, ev: Inbound) -> None:
    replying = await relay.conv_of_reply(ctx, staff, ev.reply_to_message_id)
    if replying is None and staff.awaiting == "note" and ev.kind == "text":
        await ending.note(ctx, staff, ev.text)
        return
    if replying is None and staff.awaiting == "advise":
        await support.advise(ctx, staff, ev)
        return
    await relay.from_staff(ctx, staff, ev)


async def _target(ctx: Ctx, staff: Staff, ev: Inbound, cmd: str) -> Conversation | None:
    """Which conversation a command means: the replied-to one, the only one, or ask."""
    conv = await relay.conv_of_reply(ctx, staff, ev.reply_to_message_id)
    if conv is not None:
        if conv.status == "active" and conv.specialist_id == staff.tg_user_id:
            return conv
        staff_say(ctx, staff, "staff.conv_not_yours")
        return None
    active = await queries.active_of(ctx.session, staff.tg_user_id)
    if not active:
        staff_say(ctx, staff, "staff.no_active")
        return None
    if len(active) == 1:
        return active[0]
    lang, chat = staff_lang(staff), staff.tg_user_id
    rows = []
    for c in active:
        parent = await queries.parent_of(ctx.session, c)
        rows.append((ctx.button(chat, parent_label(ctx, parent, lang), B.PICK, f"{cmd}:{c.id}"),))
    ctx.say(chat, "staff.which_conversation", lang, buttons=tuple(rows), command=cmd)
    return None


async def _run_on(ctx: Ctx, staff: Staff, cmd: str, conv: Conversation, note: str) -> None:
    if cmd == "end":
        await ending.end(ctx, conv, "specialist")
    elif cmd == "transfer":
        await xfer.offer_transfer(ctx, staff, conv, note)
    elif cmd == "consult":
        await support.consult(ctx, staff, conv)
    elif cmd == "report":
        await support.report(ctx, staff, conv)


# --- staff commands: each ``(ctx, staff, ev)``, listed by name in bot/app/staff_router.py ----


async def on_duty(ctx: Ctx, staff: Staff, ev: Inbound) -> None:
    """/onduty"""
    await duty.on_duty(ctx, staff)


async def off_duty(ctx: Ctx, staff: Staff, ev: Inbound) -> None:
    """/offduty"""
    await duty.off_duty(ctx, staff)


async def pause(ctx: Ctx, staff: Staff, ev: Inbound) -> None:
    """/pause"""
    await duty.pause(ctx, staff)


async def take_next(ctx: Ctx, staff: Staff, ev: Inbound) -> None:
    """/next: the longest-waiting parent this specialist can take."""
    await assign.take_next(ctx, staff)


async def on_conversation(ctx: Ctx, staff: Staff, ev: Inbound) -> None:
    """/end, /transfer, /consult, /report: on the replied-to or only conversation, or ask."""
    cmd = ev.command or ""
    if cmd not in _PICK_ANY:
        staff_say(ctx, staff, "staff.unknown_command")
        return
    conv = await _target(ctx, staff, ev, cmd)
    if conv is not None:
        await _run_on(ctx, staff, cmd, conv, ev.args)


async def _replied_conv(ctx: Ctx, staff: Staff, ev: Inbound) -> tuple[bool, Conversation | None]:
    """(ok, the conversation a command replied to); not ok, after saying so, if not theirs."""
    conv = await relay.conv_of_reply(ctx, staff, ev.reply_to_message_id)
    if conv is not None and (conv.status != "active" or conv.specialist_id != staff.tg_user_id):
        staff_say(ctx, staff, "staff.conv_not_yours")
        return False, None
    return True, conv


async def saved_reply_command(ctx: Ctx, staff: Staff, ev: Inbound) -> None:
    """/r: the saved replies as buttons; /r NAME: send that one to the parent."""
    ok, conv = await _replied_conv(ctx, staff, ev)
    if not ok:
        return
    if ev.args.strip():
        await tools.reply_named(ctx, staff, conv, ev.args)
    else:
        tools.list_replies(ctx, staff, conv)


async def find_command(ctx: Ctx, staff: Staff, ev: Inbound) -> None:
    """/find WORD: directory entries to share with the parent, in the parent's language."""
    ok, conv = await _replied_conv(ctx, staff, ev)
    if not ok:
        return
    await tools.find(ctx, staff, conv, ev.args)


async def show_queue(ctx: Ctx, staff: Staff, ev: Inbound) -> None:
    """/queue"""
    await coord.show_queue(ctx, staff)


async def show_who(ctx: Ctx, staff: Staff, ev: Inbound) -> None:
    """/who"""
    await coord.show_who(ctx, staff)


async def staff_help(ctx: Ctx, staff: Staff, ev: Inbound) -> None:
    """/help and /start; coordinators also get their own commands."""
    staff_say(ctx, staff, "staff.help")
    if staff.role == "coordinator":
        staff_say(ctx, staff, "staff.help_coordinator")


async def unknown_command(ctx: Ctx, staff: Staff, ev: Inbound) -> None:
    staff_say(ctx, staff, "staff.unknown_command")


async def _staff_button(ctx: Ctx, staff: Staff, ev: Inbound) -> None:
    cb = decode(ctx.secret, ev.chat_id, ev.callback_data)
    if cb is None or not cb.action.startswith("h."):
        if ev.callback_id:
            ctx.send(
                AnswerCallback(ev.callback_id, ctx.text("staff.button_expired", staff_lang(staff)))
            )
        return
    if ev.callback_id:
        ctx.send(AnswerCallback(ev.callback_id))
    a, arg = cb.action, cb.arg
    simple = {
        B.TO: relay.assign_held,
        B.XFER: xfer.transfer_to,
        B.XFER_QUEUE: xfer.transfer_to_queue,
        B.CATEGORY: ending.category,
        B.HEAVY: ending.heavy,
        B.NOTE_SKIP: ending.skip_note,
        B.DEBRIEF: ending.debrief,
        B.OUTCOME: ending.outcome,
        B.HELP: support.start_advising,
        B.REPORT: support.report_decision,
        B.REPLY: tools.reply_button,
        B.SHARE: tools.share_button,
    }
    if a in simple:
        await simple[a](ctx, staff, arg)
    elif a == B.TAKE:
        conv_id = B.to_int(arg)
        if conv_id is not None:
            await assign.take(ctx, staff, conv_id)
    elif a == B.DECLINE:
        conv_id = B.to_int(arg)
        if conv_id is not None:
            await assign.decline(ctx, staff, conv_id)
    elif a in (B.NUDGE_SEND, B.NUDGE_EDIT):
        await relay.nudge_answer(ctx, staff, arg, send=a == B.NUDGE_SEND)
    elif a == B.ADVISE_DONE:
        support.stop_advising(ctx, staff)
    elif a in (B.PICK, B.END):
        cmd, conv_id = ("end", B.to_int(arg)) if a == B.END else _split_pick(arg)
        conv = await ctx.session.get(Conversation, conv_id) if conv_id is not None else None
        if conv is None or conv.status != "active" or conv.specialist_id != staff.tg_user_id:
            staff_say(ctx, staff, "staff.conv_not_yours")
            return
        await _run_on(ctx, staff, cmd, conv, "")
    else:
        staff_say(ctx, staff, "staff.button_expired")


def _split_pick(arg: str) -> tuple[str, int | None]:
    cmd, tail = B.split2(arg)
    return (cmd, B.to_int(tail)) if cmd in _PICK_ANY else ("", None)
