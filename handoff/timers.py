"""Timed checks the handoff schedules for itself (job kinds all start with ``h.``).

- ``h.quiet`` (parent chat): the parent has been quiet; stage 1 checks on them gently,
  stage 2 tells the specialist they may end. Never for a crisis conversation.
- ``h.stale`` (parent chat): still queued after ``queue_stale_minutes``: still want to talk?
- ``h.shift`` / ``h.idle`` (staff chat): a long shift or a long quiet stretch: take a break.
- ``h.answer`` / ``h.offer`` (parent chat): nobody waits unseen (:mod:`handoff.waiting`).
Each job re-checks the database first, so a job that became moot does nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core.context import Ctx
from core.storage.models import Conversation, Staff
from handoff import buttons as B
from handoff import duty, queries, waiting
from handoff.queue import STALE_JOB
from handoff.relay import QUIET_JOB
from handoff.speech import parent_label, staff_lang

KINDS = (QUIET_JOB, STALE_JOB, duty.SHIFT_JOB, duty.IDLE_JOB, waiting.ANSWER_JOB, waiting.OFFER_JOB)


async def run(ctx: Ctx, kind: str, payload: dict[str, Any]) -> None:
    if kind == QUIET_JOB:
        await quiet(ctx, payload)
    elif kind == STALE_JOB:
        await stale(ctx, payload)
    elif kind == waiting.ANSWER_JOB:
        await waiting.answer_due(ctx, payload)
    elif kind == waiting.OFFER_JOB:
        await waiting.offer_expired(ctx, payload)
    elif kind in (duty.SHIFT_JOB, duty.IDLE_JOB):
        sid = payload.get("staff")
        staff = await ctx.session.get(Staff, sid) if isinstance(sid, int) else None
        if staff is None:
            return
        if kind == duty.SHIFT_JOB:
            await duty.shift_reminder(ctx, staff)
        else:
            await duty.idle_reminder(ctx, staff)


async def _conv(ctx: Ctx, payload: dict[str, Any]) -> Conversation | None:
    raw = payload.get("conv")
    return await ctx.session.get(Conversation, raw) if isinstance(raw, int) else None


async def quiet(ctx: Ctx, payload: dict[str, Any]) -> None:
    conv = await _conv(ctx, payload)
    if conv is None or conv.status != "active" or conv.crisis:
        return
    parent = await queries.parent_of(ctx.session, conv)
    if parent is None or parent.unreachable:
        return
    quiet_for = timedelta(minutes=ctx.settings.parent_quiet_minutes)
    if conv.last_parent_msg_at and ctx.now - conv.last_parent_msg_at < quiet_for:
        return
    if payload.get("stage", 1) == 1:
        conv.quiet_checked_at = ctx.now
        chat, lang = parent.chat_id, parent.lang
        ctx.say(
            chat,
            "handoff.quiet_check",
            lang,
            buttons=(
                (ctx.text_button(chat, "handoff.btn_done", lang, B.PARENT_END, str(conv.id)),),
            ),
        )
        await ctx.schedule(
            QUIET_JOB,
            ctx.now + quiet_for,
            chat_id=chat,
            parent_id=parent.id,
            payload={"conv": conv.id, "stage": 2},
        )
        return
    staff = await ctx.session.get(Staff, conv.specialist_id) if conv.specialist_id else None
    if staff is None:
        return
    lang, chat = staff_lang(staff), staff.tg_user_id
    ctx.say(
        chat,
        "staff.parent_quiet",
        lang,
        who=parent_label(ctx, parent, lang),
        buttons=((ctx.text_button(chat, "staff.btn_end", lang, B.END, str(conv.id)),),),
    )


async def stale(ctx: Ctx, payload: dict[str, Any]) -> None:
    conv = await _conv(ctx, payload)
    if conv is None or conv.status != "queued" or conv.after_hours:
        return
    parent = await queries.parent_of(ctx.session, conv)
    if parent is None or parent.unreachable:
        return
    conv.stale_asked_at = ctx.now
    chat, lang = parent.chat_id, parent.lang
    ctx.say(
        chat,
        "handoff.still_want",
        lang,
        buttons=(
            (
                ctx.text_button(chat, "handoff.btn_still_yes", lang, B.STILL_YES, str(conv.id)),
                ctx.text_button(chat, "handoff.btn_still_no", lang, B.STILL_NO, str(conv.id)),
            ),
        ),
    )
