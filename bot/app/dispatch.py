"""Routes one inbound event. Crisis screening comes first, in every state, for everyone.

Order for a parent's message:
1. screen the text (message, caption or edit) for crisis — before anything else, even for
   a blocked user or a parent talking with a specialist; a crisis gets the 24/7 lines at
   once and the front of the queue;
2. blocks and floods (a blocked user's messages are still screened, see 1);
3. an open handoff (queued or with a peer) gets the message; otherwise the parent flow.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from bot.app import flood, staff_chat, staff_router
from bot.app import parents as parents_mod
from bot.app.effect_handlers import apply_effect
from core.context import Ctx
from core.storage.models import Conversation, Parent, Staff
from flows.callbacks import decode
from flows.content.models import Region
from flows.events import AnswerCallback, Inbound, LeaveChat, SendText
from flows.parent import flow as parent_flow
from flows.parent.card import CARD
from flows.parent.groups import JOB as MEETING_JOB
from flows.safety import Assessment, ask, assess, assess_window
from flows.safety.features import written_lang
from flows.safety.response import crisis_reply
from handoff import albums
from handoff import api as handoff
from handoff.queue import NOTE_MAX
from handoff.speech import parent_label, staff_lang, staff_say
from handoff.unreachable import reachable_again

log = logging.getLogger(__name__)

HANDED_OFF = "handed_off"
EDIT_NOTE_EVERY = timedelta(minutes=10)  # "I saw you edited" at most this often per parent
# While a conversation is open, these belong to the handoff; other commands to the flow.
HANDOFF_COMMANDS = frozenset({"end", "newpeer", "stop", "talk"})


def screened_text(ev: Inbound) -> str | None:
    """The words to screen: message text, a caption, an edit, a command's arguments."""
    if ev.kind in ("text", "media", "edited"):
        return ev.text
    if ev.kind == "command":
        return ev.args or None
    return None


async def dispatch(ctx: Ctx, ev: Inbound) -> None:
    if ev.kind == "internal":
        await _internal(ctx, ev.internal)
        return
    if ev.kind == "group" or (ev.chat_type != "private" and ev.kind != "member"):
        await _group(ctx, ev)
        return
    if ev.kind == "member":
        await _member(ctx, ev)
        return
    if ev.user_id is None:
        return
    staff = None
    if ctx.staff_ids is None or ev.user_id in ctx.staff_ids:
        staff = await ctx.session.get(Staff, ev.user_id)
    if staff is not None:
        if staff.unreachable_at is not None:
            reachable_again(staff)  # they wrote: Telegram delivers to them again
        await staff_router.staff_event(ctx, staff, ev)
        return
    await parent_event(ctx, ev)


async def parent_event(ctx: Ctx, ev: Inbound) -> None:
    parent, conv = await parents_mod.parent_and_open_conversation(ctx, ev)
    text = screened_text(ev)
    assessment = screen(ctx, parent, text) if text else None

    if assessment is not None and assessment.crisis:
        await crisis(ctx, parent, ev, assessment)
        return
    if ev.kind == "callback" and await _safety_answer(ctx, parent, ev):
        return
    if assessment is not None and assessment.concern and await _ask_directly(
            ctx, parent, conv, ev, assessment):
        return

    if parent.blocked_until is not None and parent.blocked_until > ctx.now:
        if ev.kind == "callback" and ev.callback_id:
            ctx.send(AnswerCallback(ev.callback_id))
        return  # screened above; otherwise a blocked user gets silence until the block ends

    if ev.kind == "edited":
        _edited(ctx, parent, conv, ev)
        return
    if ev.kind in ("text", "media") and albums.more_of_album(parent, ev):
        # The 2nd..10th photo of an album: one message to the parent, so no flood and
        # no second answer; with a peer it joins the album on its way to them.
        if conv is not None:
            await handoff.album_item(ctx, conv, ev)
        return

    if ev.kind in ("text", "media") and flood.register(ctx, parent):
        if conv is not None and conv.status == "active" and ev.kind == "text" and ev.text:
            await flood.batch_relay(ctx, parent, conv, ev)
        elif conv is not None and (conv.status == "queued" or ev.kind == "media"):
            await handoff.parent_event(ctx, parent, conv, ev)  # kept for the peer
        return  # stored and screened; the flow answers again once the rush is over
    if conv is not None and _belongs_to_handoff(ctx, ev):
        await handoff.parent_event(ctx, parent, conv, ev)
        return
    if conv is None and ev.kind == "callback" and _is_handoff_button(ctx, ev):
        await handoff.parent_button(ctx, parent, ev)  # e.g. the survey after a conversation
        return
    await run_flow(ctx, parent, ev, assessment, in_handoff=conv is not None)


def _edited(ctx: Ctx, parent: Parent, conv: Conversation | None, ev: Inbound) -> None:
    """An edit is never re-read as a new message. A live location edits its message every
    few seconds, so its edits get no answer at all; for others the parent is told so at
    most once per :data:`EDIT_NOTE_EVERY` (a parent fixing typos hears it once)."""
    if ev.live:
        return
    if parent.edit_noted_at is not None and ctx.now - parent.edit_noted_at < EDIT_NOTE_EVERY:
        return
    parent.edit_noted_at = ctx.now
    active = conv is not None and conv.status == "active"
    ctx.say(ev.chat_id, "handoff.edit_not_shown" if active else "common.edited_ignored",
            parent.lang)


def screen(ctx: Ctx, parent: Parent, text: str) -> Assessment:
    """This message, then the parent's last few messages read together (a plan told in
    pieces). The window is kept on the parent's row, so a restart does not forget it."""
    a = assess(text, parent.lang)
    window = ask.push(parent.screen_window, text, ctx.now)
    parent.screen_window, parent.screen_window_at = window, ctx.now
    if a.crisis:
        return a
    w = assess_window(ask.texts(window), parent.lang)
    if w is None or a.concern or not (w.crisis or w.concern):
        return a
    # Messages read together are weaker evidence than one message: the window asks the
    # parent directly, it never sends the full crisis response on its own.
    return Assessment(
        crisis=False, clinical=a.clinical, legal=a.legal, category=None,
        evidence=(*a.evidence, *w.evidence), concern=True, score=max(a.score, w.score),
        wants_human=a.wants_human, fear_of_report=a.fear_of_report,
        concern_category=w.category or w.concern_category)


def _forget_window(parent: Parent) -> None:
    """After a crisis response or a parent's own "no", the same words must not ask again."""
    parent.screen_window, parent.screen_window_at = None, None


async def _ask_directly(ctx: Ctx, parent: Parent, conv: Conversation | None, ev: Inbound,
                        a: Assessment) -> bool:
    """The grey zone: ask plainly, as counsellors do. True when this event is answered.

    With a specialist in the conversation, the person asks, not the bot: the specialist
    gets a private note and the message is relayed as usual.
    """
    state = (parent.flow_data or {}).get("safety_q")
    if not ask.should_ask(state, a.concern_category, ctx.now):
        return False
    parent.flow_data = {**parent.flow_data, "safety_q": ask.asked(a.concern_category, ctx.now)}
    await ctx.audit("system", "concern_detected", pseudonym=parent.pseudonym,
                    category=a.concern_category, evidence=list(a.evidence))
    await ctx.bump("concern_asked")
    if conv is not None and conv.status == "active" and conv.specialist_id is not None:
        staff = await ctx.session.get(Staff, conv.specialist_id)
        if staff is not None:
            staff_say(ctx, staff, "staff.concern_note",
                      who=parent_label(ctx, parent, staff_lang(staff)))
            return False  # relayed below, as any message
    lang = _reply_language(ctx, parent, ev)
    row = tuple(ctx.text_button(ev.chat_id, f"safety.{key}", lang, ask.ACTION, arg)
                for key, arg in (("yes", ask.YES), ("no", ask.NO), ("not_sure", ask.NOT_SURE)))
    ctx.say(ev.chat_id, "safety.ask_directly", lang, buttons=(row,))
    if conv is not None and ev.kind in ("text", "media"):
        await handoff.parent_event(ctx, parent, conv, ev)  # kept for the peer, as always
    elif ev.kind == "callback" and ev.callback_id:
        ctx.send(AnswerCallback(ev.callback_id))
    return True


async def _safety_answer(ctx: Ctx, parent: Parent, ev: Inbound) -> bool:
    """The parent's answer to the direct question. "Yes" and "not sure" always get the
    crisis response, however old the button: a yes is never ignored."""
    cb = decode(ctx.secret, ev.chat_id, ev.callback_data)
    if cb is None or cb.action != ask.ACTION or cb.arg not in (ask.YES, ask.NO, ask.NOT_SURE):
        return False
    state = (parent.flow_data or {}).get("safety_q")
    parent.flow_data = {**parent.flow_data, "safety_q": ask.answered(state, cb.arg)}
    await ctx.audit("system", "concern_answered", pseudonym=parent.pseudonym,
                    details={"answer": cb.arg})
    if cb.arg in (ask.YES, ask.NOT_SURE):
        about = (state or {}).get("about")
        await crisis(ctx, parent, ev, Assessment(
            crisis=True, clinical=False, legal=False, category=about,
            evidence=(f"asked.{'yes' if cb.arg == ask.YES else 'not_sure'}",),
            categories=(about,) if about else ()))
        return True
    _forget_window(parent)
    ctx.send(AnswerCallback(ev.callback_id or ""))
    waiting = state is not None and state.get("answer") is None
    ctx.say(ev.chat_id, "safety.answer_no" if waiting else "safety.answer_old", parent.lang)
    return True


def _is_handoff_button(ctx: Ctx, ev: Inbound) -> bool:
    cb = decode(ctx.secret, ev.chat_id, ev.callback_data)
    return cb is not None and cb.action.startswith("h.")


def _belongs_to_handoff(ctx: Ctx, ev: Inbound) -> bool:
    if ev.kind == "command":
        return (ev.command or "") in HANDOFF_COMMANDS
    if ev.kind == "callback":
        cb = decode(ctx.secret, ev.chat_id, ev.callback_data)
        return cb is None or cb.action.startswith("h.")
    return True


def _reply_language(ctx: Ctx, parent: Parent, ev: Inbound) -> str:
    """The crisis lines and the direct question come in the language the parent wrote
    this message in, when it plainly differs from theirs (a phone set to English, a
    parent writing in Spanish tonight); their language setting stays as it is."""
    written = written_lang(ev.text) if ev.kind in ("text", "media") else None
    return written if written in ctx.content.languages else parent.lang


async def crisis(ctx: Ctx, parent: Parent, ev: Inbound, a: Assessment) -> None:
    """The crisis response: lines at once, front of the queue, alerts, audit."""
    category = a.category or "general"
    _forget_window(parent)
    ctx.send(SendText(ev.chat_id, crisis_reply(a.category, _reply_language(ctx, parent, ev),
                                               ctx.content, ctx.now, categories=a.categories)))
    if category == "domestic_violence":
        parent.no_checkin = True
        parent.flow_data = {**parent.flow_data, "no_checkin": True}
        await ctx.cancel_jobs(kind="checkin", parent_id=parent.id)
        # Set before they told us someone may be watching: only one asked for since stays.
        await ctx.cancel_jobs(kind=MEETING_JOB, parent_id=parent.id)
    await ctx.audit("system", "crisis_detected", pseudonym=parent.pseudonym, category=category,
                    evidence=list(a.evidence))  # handoff.escalate_crisis counts the escalation
    before = await handoff.open_conversation(ctx, parent)
    conv = await handoff.escalate_crisis(ctx, parent, category, tuple(a.evidence))
    if before is not None and before.status == "active" and ev.kind in ("text", "media"):
        await handoff.parent_event(ctx, parent, before, ev)  # the specialist sees their words
    elif ev.kind in ("text", "media") and ev.text:
        if conv.status == "queued" and not conv.waiting_note:
            # The peer should not make them repeat it: all of it, as any waiting note.
            conv.waiting_note = ev.text[:NOTE_MAX]
    if ev.kind == "callback" and ev.callback_id:
        ctx.send(AnswerCallback(ev.callback_id))
    if CARD in (parent.flow_data or {}):  # a crisis never waits for a handoff card
        parent.flow_data = {k: v for k, v in parent.flow_data.items() if k != CARD}
    parent.flow_state = HANDED_OFF


async def run_flow(ctx: Ctx, parent: Parent, ev: Inbound, assessment: Assessment | None,
                   *, in_handoff: bool) -> None:
    if parent.flow_state == HANDED_OFF and not in_handoff and ev.kind != "internal":
        # The peer conversation ended (either side, a transfer to nowhere, a 403 and back):
        # the flow goes quietly back to listening before it reads this message.
        await run_flow(ctx, parent, Inbound(kind="internal", chat_id=parent.chat_id,
                                            user_id=parent.tg_user_id,
                                            internal={"job": "handoff_ended"}),
                       None, in_handoff=False)
    data = dict(parent.flow_data or {})
    data["retention_days"] = ctx.settings.retention_days
    if parent.no_checkin:
        data["no_checkin"] = True
    snap = parent_flow.ParentSnapshot(
        parent_id=parent.id,
        chat_id=parent.chat_id,
        lang=parent.lang,
        state=parent.flow_state,
        data=data,
        region=_region(parent),
        in_handoff=in_handoff,
        demo=ctx.settings.demo,
    )
    result = parent_flow.handle(snap, ev, ctx.content, ctx.now, ctx.secret, assessment)
    parent.flow_state = result.state
    parent.flow_data = result.data
    parent.lang = result.lang
    ctx.actions.extend(result.actions)
    for effect in result.effects:
        await apply_effect(ctx, parent, effect)


def _region(parent: Parent) -> Region | None:
    if not (parent.region_zip or parent.region_state or parent.region_county):
        return None
    return Region(zip=parent.region_zip, state=parent.region_state, county=parent.region_county)


async def _internal(ctx: Ctx, payload: dict[str, Any]) -> None:
    job = str(payload.get("job", ""))
    if job == "flood_flush":
        await flood.flush(ctx, int(payload.get("conv", 0)))
        return
    if job == "delivery_failed":
        await handoff.delivery_failed(ctx, int(payload.get("chat_id", 0)))
        return
    if job.startswith("h."):
        await handoff.internal_job(ctx, job, payload)
        return
    if job in ("checkin", MEETING_JOB):
        parent_id = payload.get("parent_id")
        parent = await ctx.session.get(Parent, parent_id) if parent_id is not None else None
        if parent is None or parent.unreachable:
            return
        if job == "checkin" and parent.no_checkin:
            return
        conv = await handoff.open_conversation(ctx, parent)
        ev = Inbound(kind="internal", chat_id=parent.chat_id, user_id=parent.tg_user_id,
                     internal=payload)
        await run_flow(ctx, parent, ev, None, in_handoff=conv is not None)
        return
    log.warning("unknown internal job kind %s", job)


async def _group(ctx: Ctx, ev: Inbound) -> None:
    """The line is one-to-one; in a group or channel it says so once and leaves."""
    if ev.kind == "callback" and ev.callback_id:
        ctx.send(AnswerCallback(ev.callback_id))
    if await staff_chat.follow_upgrade(ctx, ev):
        return  # the staff group became a supergroup: alerts follow it there
    if await staff_chat.is_staff_chat(ctx, ev.chat_id):
        return  # the staff group (or its id before an upgrade) only receives alerts
    if ev.migrate_to_chat_id is not None:
        return  # another group's upgrade: the new supergroup's own message is answered
    if ev.chat_type == "channel":
        ctx.send(LeaveChat(ev.chat_id))
        return
    ctx.say(ev.chat_id, "common.group_not_supported", "en")
    ctx.send(LeaveChat(ev.chat_id))


async def _member(ctx: Ctx, ev: Inbound) -> None:
    if ev.chat_type == "private":
        if ev.text == "kicked":  # the parent blocked the bot
            await handoff.delivery_failed(ctx, ev.chat_id)
        return
    if await staff_chat.is_staff_chat(ctx, ev.chat_id):
        await staff_chat.member_changed(ctx, ev)  # removed: /readyz and /metrics say so
        return
    if ev.text in ("member", "administrator"):
        ctx.say(ev.chat_id, "common.group_not_supported", "en")
        ctx.send(LeaveChat(ev.chat_id))
