"""Going on and off duty, pausing, and the gentle reminders to take a break.

``/offduty`` never leaves a parent waiting on a phone that went home: every active
conversation goes to a colleague or back to the front of the queue first.
Reminders are self-rescheduling jobs, so there is only ever one per specialist.
"""

from __future__ import annotations

from datetime import timedelta

from core.context import Ctx
from core.storage.models import Staff
from handoff import buttons as B
from handoff import queries, relay, transfer
from handoff.policy import order_queue
from handoff.speech import parent_label, staff_lang, staff_say

SHIFT_JOB = "h.shift"
IDLE_JOB = "h.idle"
ONDUTY_LIST_MAX = 10


async def on_duty(ctx: Ctx, staff: Staff) -> None:
    """``/onduty``: who waited (after-hours messages too), with a Take button each."""
    if not staff.on_duty:
        staff.on_duty = True
        staff.duty_started_at = ctx.now
        staff.reminded_at = None
        await ctx.cancel_jobs(chat_id=staff.tg_user_id, kind=SHIFT_JOB)
        await ctx.cancel_jobs(chat_id=staff.tg_user_id, kind=IDLE_JOB)
        hours = ctx.settings.shift_reminder_hours
        await ctx.schedule(
            SHIFT_JOB,
            ctx.now + timedelta(hours=hours),
            chat_id=staff.tg_user_id,
            payload={"staff": staff.tg_user_id},
        )
        await _schedule_idle(ctx, staff)
    staff.paused = False
    await show_waiting(ctx, staff, "staff.onduty")


async def show_waiting(ctx: Ctx, staff: Staff, key: str) -> None:
    lang, chat = staff_lang(staff), staff.tg_user_id
    convs = {c.id: c for c in await queries.queued(ctx.session)}
    ordered = order_queue(queries.queue_view(c) for c in convs.values())
    lines, rows = [], []
    for i, view in enumerate(ordered[:ONDUTY_LIST_MAX], start=1):
        conv = convs[view.id]
        parent = await queries.parent_of(ctx.session, conv)
        who = parent_label(ctx, parent, lang)
        minutes = max(0, int((ctx.now - conv.queued_at).total_seconds() // 60))
        flags = []
        if conv.priority == "crisis":
            flags.append(ctx.text("staff.flag_crisis", lang))
        if conv.after_hours:
            flags.append(ctx.text("staff.flag_after_hours", lang))
        if conv.waiting_note:
            flags.append(ctx.text("staff.flag_left_message", lang))
        if conv.experience_only and conv.requested_experience:
            # Waiting for a peer who lived it: whoever has not should leave them be.
            flags.append(ctx.text("staff.flag_experience", lang, label=ctx.content.experience_label(
                conv.requested_experience, lang)))
        lines.append(
            ctx.text(
                "staff.waiting_line",
                lang,
                n=i,
                who=who,
                language=conv.lang,
                minutes=minutes,
                flags=" ".join(flags),
            )
        )
        take = ctx.text("staff.btn_take_who", lang, who=who)
        rows.append((ctx.button(chat, take, B.TAKE, str(conv.id)),))
    waiting = "\n".join(lines) if lines else ctx.text("staff.nobody_waiting", lang)
    ctx.say(chat, key, lang, buttons=tuple(rows), waiting=waiting, count=len(ordered))


async def off_duty(ctx: Ctx, staff: Staff) -> None:
    """``/offduty``: hand everything over first, then go."""
    handed, queued = await transfer.hand_over_all(ctx, staff)
    unsent = await relay.pending_held(ctx, staff.tg_user_id)
    for held in unsent:
        held.resolved_at = ctx.now
    staff.on_duty = False
    staff.paused = False
    staff.awaiting = None if staff.awaiting == "advise" else staff.awaiting
    await ctx.cancel_jobs(chat_id=staff.tg_user_id, kind=SHIFT_JOB)
    await ctx.cancel_jobs(chat_id=staff.tg_user_id, kind=IDLE_JOB)
    staff_say(ctx, staff, "staff.offduty", handed=handed, queued=queued)
    if unsent:
        staff_say(ctx, staff, "staff.offduty_unsent", count=len(unsent))


async def pause(ctx: Ctx, staff: Staff) -> None:
    """``/pause`` toggles: no new conversations, the ones in hand stay."""
    if not staff.on_duty:
        staff_say(ctx, staff, "staff.not_on_duty")
        return
    staff.paused = not staff.paused
    staff_say(ctx, staff, "staff.paused" if staff.paused else "staff.unpaused")


async def _schedule_idle(ctx: Ctx, staff: Staff) -> None:
    await ctx.schedule(
        IDLE_JOB,
        ctx.now + timedelta(minutes=ctx.settings.idle_reminder_minutes),
        chat_id=staff.tg_user_id,
        payload={"staff": staff.tg_user_id},
    )


async def shift_reminder(ctx: Ctx, staff: Staff) -> None:
    if not staff.on_duty or staff.duty_started_at is None:
        return
    hours = (ctx.now - staff.duty_started_at).total_seconds() / 3600
    if hours + 1e-6 < ctx.settings.shift_reminder_hours:
        return
    staff.reminded_at = ctx.now
    staff_say(ctx, staff, "staff.shift_reminder", hours=int(hours))
    await ctx.schedule(
        SHIFT_JOB,
        ctx.now + timedelta(hours=ctx.settings.shift_reminder_hours),
        chat_id=staff.tg_user_id,
        payload={"staff": staff.tg_user_id},
    )


async def idle_reminder(ctx: Ctx, staff: Staff) -> None:
    """Remind after a long quiet stretch; otherwise look again later."""
    if not staff.on_duty:
        return
    limit = timedelta(minutes=ctx.settings.idle_reminder_minutes)
    last = staff.last_active_at or staff.duty_started_at or ctx.now
    if ctx.now - last >= limit:
        staff.reminded_at = ctx.now
        staff_say(
            ctx, staff, "staff.idle_reminder", minutes=int((ctx.now - last).total_seconds() // 60)
        )
        await ctx.schedule(
            IDLE_JOB, ctx.now + limit, chat_id=staff.tg_user_id, payload={"staff": staff.tg_user_id}
        )
        return
    await ctx.schedule(
        IDLE_JOB, last + limit, chat_id=staff.tg_user_id, payload={"staff": staff.tg_user_id}
    )
