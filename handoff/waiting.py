"""Nobody waits unseen: a silent specialist, an offer nobody took, a crisis taken.

- ``h.answer`` (parent chat): the parent has waited ``specialist_nudge_minutes`` for their
  specialist's words (since the specialist joined, or since the parent's first message
  the specialist has not answered). Stage 1 nudges the specialist; stage 2, after
  ``specialist_requeue_minutes`` more, puts the conversation back at the front of the
  queue, tells the parent kindly, alerts colleagues and tells the coordinators.
  Any message the specialist relays to the parent stops the clock.
- ``h.offer`` (parent chat, push mode): an offer not taken in ``offer_expire_minutes``
  moves on to the next fitting specialist; when every fitting one was tried, everyone
  on duty is alerted and the coordinators hear of it.
- A crisis goes to every specialist on duty at once; the first Take wins (the atomic
  claim in :mod:`handoff.claim`), and everyone else's alert is marked taken.

Each job re-checks the database first, so a job that became moot does nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from core.context import Ctx
from core.storage.models import Conversation, OutboxRow, Parent, Staff
from flows.events import EditText
from handoff import alerts, queries, queue
from handoff import buttons as B
from handoff.claim import release
from handoff.speech import parent_label, staff_lang, staff_say

ANSWER_JOB = "h.answer"
OFFER_JOB = alerts.OFFER_JOB


# --- the specialist's answer clock -------------------------------------------------------


def _answer_payload(
    conv: Conversation, staff_id: int, since: datetime, stage: int
) -> dict[str, Any]:
    return {"conv": conv.id, "staff": staff_id, "since": since.isoformat(), "stage": stage}


async def restart_answer_clock(ctx: Ctx, parent: Parent, conv: Conversation) -> None:
    """A specialist just joined: the parent waits for their first words from now."""
    if conv.awaiting_answer_since is not None:
        await ctx.cancel_jobs(kind=ANSWER_JOB, parent_id=parent.id)
    conv.awaiting_answer_since = None
    await parent_waits(ctx, parent, conv)


async def parent_waits(ctx: Ctx, parent: Parent, conv: Conversation) -> None:
    """The parent wrote: start the clock, unless it already runs since an earlier message."""
    if conv.specialist_id is None or conv.awaiting_answer_since is not None:
        return
    conv.awaiting_answer_since = ctx.now
    await ctx.schedule(
        ANSWER_JOB,
        ctx.now + timedelta(minutes=ctx.settings.specialist_nudge_minutes),
        chat_id=parent.chat_id,
        parent_id=parent.id,
        payload=_answer_payload(conv, conv.specialist_id, ctx.now, 1),
    )


async def answered(ctx: Ctx, parent: Parent, conv: Conversation) -> None:
    """The specialist's words are on their way to the parent: the clock stops."""
    if conv.awaiting_answer_since is None:
        return
    conv.awaiting_answer_since = None
    await ctx.cancel_jobs(kind=ANSWER_JOB, parent_id=parent.id)


def _same_wait(conv: Conversation, raw: object) -> bool:
    """The job belongs to the wait still running (not one answered or restarted since)."""
    if conv.awaiting_answer_since is None:
        return False
    try:
        since = datetime.fromisoformat(str(raw))
    except ValueError:
        return False
    return abs((conv.awaiting_answer_since - since).total_seconds()) < 1


def _minutes_since(ctx: Ctx, raw: object) -> int:
    try:
        since = datetime.fromisoformat(str(raw))
    except ValueError:
        return 0
    return max(0, int((ctx.now - since).total_seconds() // 60))


async def answer_due(ctx: Ctx, payload: dict[str, Any]) -> None:
    """``h.answer``: stage 1 nudges the specialist, stage 2 offers the parent to colleagues."""
    raw_conv, staff_id = payload.get("conv"), payload.get("staff")
    if not isinstance(raw_conv, int) or not isinstance(staff_id, int):
        return
    conv = await ctx.session.get(Conversation, raw_conv)
    if conv is None or conv.status != "active" or conv.specialist_id != staff_id:
        return
    if not _same_wait(conv, payload.get("since")):
        return
    parent = await queries.parent_of(ctx.session, conv)
    staff = await ctx.session.get(Staff, staff_id)
    if parent is None or parent.unreachable or staff is None:
        return
    waited = _minutes_since(ctx, payload.get("since"))
    if payload.get("stage", 1) == 1:
        requeue = ctx.settings.specialist_requeue_minutes
        lang, chat = staff_lang(staff), staff.tg_user_id
        ctx.say(
            chat,
            "staff.answer_nudge",
            lang,
            # "not a good fit" on an active conversation: back to the front, gently
            buttons=((ctx.text_button(chat, "staff.btn_pass_on", lang, B.DECLINE, str(conv.id)),),),
            who=parent_label(ctx, parent, lang),
            minutes=waited,
            requeue=_whole(requeue),
        )
        await ctx.schedule(
            ANSWER_JOB,
            ctx.now + timedelta(minutes=requeue),
            chat_id=parent.chat_id,
            parent_id=parent.id,
            payload={"conv": conv.id, "staff": staff_id, "since": payload.get("since"),
                     "stage": 2},
        )
        return
    await _requeue_unanswered(ctx, conv, parent, staff, waited)


def _whole(minutes: float) -> int | float:
    return int(minutes) if float(minutes).is_integer() else round(minutes, 1)


async def _requeue_unanswered(
    ctx: Ctx, conv: Conversation, parent: Parent, staff: Staff, waited: int
) -> None:
    if not await release(ctx.session, conv.id, staff.tg_user_id):
        return
    conv.awaiting_answer_since = None
    staff_say(ctx, staff, "staff.answer_requeued",
              who=parent_label(ctx, parent, staff_lang(staff)))
    await queue.tell_position(ctx, parent, conv, "handoff.peer_no_answer")
    skip = [staff.tg_user_id, *await _unreachable(ctx)]
    if conv.priority == "crisis":
        await alerts.crisis_alerts(ctx, conv, parent, exclude=skip)
    else:
        await alerts.alert_waiting(ctx, conv, parent, exclude=skip)
    await alerts.notify_coordinators(
        ctx,
        "staff.specialist_silent",
        parent=parent,
        exclude=skip,
        name=staff.name,
        minutes=waited,
    )
    await ctx.audit(
        "system",
        "unanswered_requeued",
        pseudonym=parent.pseudonym,
        details={"conversation": conv.id, "staff": staff.tg_user_id, "minutes": waited},
    )
    await ctx.bump("unanswered_requeued")
    await queue.refresh_positions(ctx)


async def _unreachable(ctx: Ctx) -> list[int]:
    """Staff Telegram will not deliver to (see :mod:`handoff.unreachable`)."""
    return [s.tg_user_id for s in await queries.unreachable_staff(ctx.session)]


# --- push-mode offers ----------------------------------------------------------------------


async def offer_expired(ctx: Ctx, payload: dict[str, Any]) -> None:
    """``h.offer``: the offer wasn't taken in time; the next fitting specialist gets it."""
    raw_conv, staff_id = payload.get("conv"), payload.get("staff")
    if not isinstance(raw_conv, int) or not isinstance(staff_id, int):
        return
    conv = await ctx.session.get(Conversation, raw_conv)
    if conv is None or conv.status != "queued" or conv.offered_staff_id != staff_id:
        return
    conv.offered_staff_id = None
    parent = await queries.parent_of(ctx.session, conv)
    tried = sorted({*_ints(payload.get("tried")), staff_id})
    unreachable = await _unreachable(ctx)
    await ctx.bump("offers_expired")
    told = await alerts.alert_waiting(ctx, conv, parent, exclude=[*tried, *unreachable],
                                      tried=tried)
    if not told:
        # Every fitting specialist had their turn: everyone on duty sees it now, as in pull
        # mode (the one whose offer just expired too), and the coordinators hear of it.
        await alerts.alert_waiting(ctx, conv, parent, exclude=unreachable, offer=False)
        await alerts.notify_coordinators(ctx, "staff.offers_unanswered", parent=parent,
                                         exclude=unreachable)
        return
    staff = await ctx.session.get(Staff, staff_id)
    if staff is not None and staff.tg_user_id not in unreachable:
        staff_say(
            ctx,
            staff,
            "staff.offer_expired",
            who=parent_label(ctx, parent, staff_lang(staff)),
            minutes=_whole(ctx.settings.offer_expire_minutes),
        )


def _ints(raw: object) -> list[int]:
    return [x for x in raw if isinstance(x, int)] if isinstance(raw, list) else []


# --- a crisis taken --------------------------------------------------------------------------


async def crisis_taken(ctx: Ctx, conv: Conversation, winner: Staff) -> None:
    """Everyone else who got this crisis sees it's taken: their alert loses its Take button
    (edited where Telegram already has it), or they get a short line."""
    parent = await queries.parent_of(ctx.session, conv)
    duty = {s.tg_user_id: s for s in await queries.on_duty(ctx.session)}
    sent = await _crisis_alerts_sent(ctx, conv, exclude=winner.tg_user_id)
    chats = (set(duty) | set(sent)) - {winner.tg_user_id}
    chats -= set(await _unreachable(ctx))
    for chat in sorted(chats):
        staff = duty.get(chat) or await ctx.session.get(Staff, chat)
        if staff is None:
            continue
        lang = staff_lang(staff)
        who = parent_label(ctx, parent, lang)
        if sent.get(chat):
            text = ctx.text("staff.crisis_taken_alert", lang, name=winner.name, who=who)
            for message_id in sent[chat]:
                ctx.send(EditText(chat, message_id, text))
        else:
            staff_say(ctx, staff, "staff.crisis_taken", name=winner.name, who=who)


async def _crisis_alerts_sent(
    ctx: Ctx, conv: Conversation, *, exclude: int
) -> dict[int, list[int]]:
    """Chat -> ids of this conversation's crisis alerts Telegram already holds (an alert
    still in the outbox can't be edited: its chat gets a short line instead)."""
    staff_chats = select(Staff.tg_user_id).where(Staff.tg_user_id != exclude)
    rows = await ctx.session.execute(
        select(OutboxRow.chat_id, OutboxRow.message_id, OutboxRow.meta).where(
            OutboxRow.chat_id.in_(staff_chats),
            OutboxRow.status == "sent",
            OutboxRow.method == "sendMessage",
            OutboxRow.created_at >= conv.queued_at,
        )
    )
    out: dict[int, list[int]] = {}
    for chat, mid, meta in rows:
        m = meta or {}
        if chat is None or mid is None:
            continue
        if m.get("alert") == alerts.CRISIS_ALERT and m.get("conv") == conv.id:
            out.setdefault(int(chat), []).append(int(mid))
    return out
