"""Parents as the application sees them: created on first contact, shown by pseudonym,
forgotten for real on /forget."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import delete, select

from bot.app.context import Ctx
from bot.storage import outbox
from bot.storage.models import InboxRow, Job, Parent, SentMessage
from flows.events import DeleteMessage, Inbound

# No 0/O or 1/I: a pseudonym is read aloud between a specialist and a coordinator.
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
DELETE_WINDOW = timedelta(hours=47)  # Telegram lets bots delete their messages for 48 h


def new_pseudonym() -> str:
    """A code like ``K7Q2``; staff texts show it as "Parent K7Q2"."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(4))


def language_from_hint(code: str | None, available: tuple[str, ...]) -> str:
    """Telegram's ``language_code`` is only a first guess; /language changes it."""
    if code:
        base = code.split("-")[0].lower()
        if base in available:
            return base
    return "en"


async def find_parent(ctx: Ctx, user_id: int) -> Parent | None:
    return (await ctx.session.scalars(
        select(Parent).where(Parent.tg_user_id == user_id)
    )).one_or_none()


async def get_or_create_parent(ctx: Ctx, ev: Inbound) -> Parent:
    assert ev.user_id is not None
    parent = await find_parent(ctx, ev.user_id)
    if parent is None:
        for _ in range(20):
            pseudonym = new_pseudonym()
            taken = await ctx.session.scalar(select(Parent.id).where(Parent.pseudonym == pseudonym))
            if taken is None:
                break
        parent = Parent(
            pseudonym=pseudonym,
            tg_user_id=ev.user_id,
            chat_id=ev.chat_id,
            lang=language_from_hint(ev.language_code, tuple(ctx.content.languages)),
            flow_state="",
            flow_data={},
            created_at=ctx.now,
            last_seen_at=ctx.now,
            unreachable=False,
            no_checkin=False,
            media_notice_given=False,
        )
        ctx.session.add(parent)
        await ctx.session.flush()
        await ctx.bump("parents_new")
    else:
        parent.last_seen_at = ctx.now
        if parent.unreachable:
            parent.unreachable = False  # they came back (unblocked the bot)
    return parent


async def forget_parent(ctx: Ctx, parent: Parent) -> None:
    """Delete everything stored about ``parent`` except report decisions under legal hold.

    The bot's own recent messages in the chat are deleted too where Telegram still allows
    it (48 hours); what cannot be deleted is said honestly by the flow's final message.
    """
    chat_id = parent.chat_id
    since = ctx.now - DELETE_WINDOW
    for mid in await outbox.recent_sent_ids(ctx.session, chat_id, since):
        ctx.send(DeleteMessage(chat_id, mid))
    await outbox.drop_pending_for_chat(ctx.session, chat_id)
    await ctx.session.execute(delete(SentMessage).where(SentMessage.chat_id == chat_id))
    await ctx.session.execute(delete(Job).where(Job.parent_id == parent.id))
    # Their earlier messages in the inbox (the current one is marked processed and purged
    # by the caller).
    await ctx.session.execute(
        delete(InboxRow).where(InboxRow.chat_id == chat_id, InboxRow.processed_at.is_not(None))
    )
    await ctx.session.delete(parent)  # conversations and relay links cascade
    await ctx.audit("system", "forget")
    await ctx.bump("forget")
