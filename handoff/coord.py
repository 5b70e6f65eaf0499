"""Coordinator views: ``/queue`` (who waits, who talks, how long) and ``/who`` (who is on).

Pseudonyms and waits only — no names of parents, no words of theirs.
"""

from __future__ import annotations

from core.context import Ctx
from core.storage.models import Staff
from handoff import queries
from handoff.policy import order_queue
from handoff.speech import parent_label, staff_lang, staff_say


def _minutes(ctx: Ctx, since: object) -> int:
    from datetime import datetime

    if not isinstance(since, datetime):
        return 0
    return max(0, int((ctx.now - since).total_seconds() // 60))


async def show_queue(ctx: Ctx, staff: Staff) -> None:
    if staff.role != "coordinator":
        staff_say(ctx, staff, "staff.coordinators_only")
        return
    lang = staff_lang(staff)
    convs = {c.id: c for c in await queries.queued(ctx.session)}
    waiting = []
    for i, v in enumerate(order_queue(queries.queue_view(c) for c in convs.values()), start=1):
        c = convs[v.id]
        parent = await queries.parent_of(ctx.session, c)
        flag = ctx.text("staff.flag_crisis", lang) if c.priority == "crisis" else ""
        waiting.append(
            ctx.text(
                "staff.queue_line",
                lang,
                n=i,
                who=parent_label(ctx, parent, lang),
                language=c.lang,
                minutes=_minutes(ctx, c.queued_at),
                flags=flag,
            )
        )
    active = []
    names = {s.tg_user_id: s.name for s in await queries.on_duty(ctx.session)}
    from sqlalchemy import select

    from core.storage.models import Conversation

    rows = await ctx.session.scalars(
        select(Conversation).where(Conversation.status == "active").order_by(Conversation.id)
    )
    for c in rows:
        parent = await queries.parent_of(ctx.session, c)
        sid = c.specialist_id or 0
        peer = names.get(sid)
        if peer is None:
            other = await ctx.session.get(Staff, sid)
            peer = other.name if other else "?"
        flag = ctx.text("staff.flag_crisis", lang) if c.crisis else ""
        active.append(
            ctx.text(
                "staff.active_line",
                lang,
                who=parent_label(ctx, parent, lang),
                peer=peer,
                minutes=_minutes(ctx, c.claimed_at),
                flags=flag,
            )
        )
    none = ctx.text("staff.summary_none", lang)
    staff_say(
        ctx,
        staff,
        "staff.queue_view",
        waiting="\n".join(waiting) or none,
        active="\n".join(active) or none,
    )


async def show_who(ctx: Ctx, staff: Staff) -> None:
    if staff.role != "coordinator":
        staff_say(ctx, staff, "staff.coordinators_only")
        return
    lang = staff_lang(staff)
    duty = await queries.on_duty(ctx.session)
    counts = await queries.loads(ctx.session, [s.tg_user_id for s in duty])
    lines = [
        ctx.text(
            "staff.who_line",
            lang,
            name=s.name,
            active=counts[s.tg_user_id],
            max=s.max_active,
            langs=",".join(s.languages or []),
            paused=ctx.text("staff.flag_paused", lang) if s.paused else "",
        )
        for s in duty
    ]
    staff_say(
        ctx,
        staff,
        "staff.who_view",
        people="\n".join(lines) or ctx.text("staff.nobody_on_duty", lang),
    )
