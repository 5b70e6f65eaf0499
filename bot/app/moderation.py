"""Coordinator tools against abuse: a block that expires by itself.

A blocked user's messages are still stored and screened: a crisis still gets the crisis
lines and an alert (see ``dispatch``). Only coordinators may block, and every block and
unblock is audited.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.context import Ctx
from core.storage.models import Parent, Staff
from flows.events import Inbound

DEFAULT_HOURS = 24
MAX_HOURS = 24 * 30


def _lang(staff: Staff) -> str:
    return staff.languages[0] if staff.languages else "en"


async def _find(ctx: Ctx, ref: str) -> Parent | None:
    code = ref.strip().upper().removeprefix("PARENT").strip()
    if not code:
        return None
    return (await ctx.session.scalars(
        select(Parent).where(Parent.pseudonym == code)
    )).one_or_none()


async def block_command(ctx: Ctx, staff: Staff, ev: Inbound) -> None:
    """``/block K7Q2 [hours]`` and ``/unblock K7Q2`` (coordinators only)."""
    lang = _lang(staff)
    if staff.role != "coordinator":
        ctx.say(ev.chat_id, "moderation.coordinators_only", lang)
        return
    parts = ev.args.split()
    if not parts:
        ctx.say(ev.chat_id, "moderation.usage", lang)
        return
    hours = DEFAULT_HOURS
    if ev.command == "block" and len(parts) > 1:
        try:
            hours = max(1, min(MAX_HOURS, int(parts[-1])))
            parts = parts[:-1]
        except ValueError:
            pass
    parent = await _find(ctx, " ".join(parts))
    if parent is None:
        ctx.say(ev.chat_id, "moderation.not_found", lang)
        return
    if ev.command == "unblock":
        parent.blocked_until = None
        await ctx.audit(f"staff:{staff.tg_user_id}", "unblock", pseudonym=parent.pseudonym)
        ctx.say(ev.chat_id, "moderation.unblocked", lang, pseudonym=parent.pseudonym)
        return
    parent.blocked_until = ctx.now + timedelta(hours=hours)
    await ctx.audit(f"staff:{staff.tg_user_id}", "block", pseudonym=parent.pseudonym,
                    details={"hours": hours})
    ctx.say(ev.chat_id, "moderation.blocked", lang, pseudonym=parent.pseudonym, hours=hours)
