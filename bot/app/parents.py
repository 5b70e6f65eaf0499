"""Parents as the application sees them: created on first contact, shown by pseudonym,
forgotten for real on /forget."""

from __future__ import annotations

import secrets
from collections.abc import Collection
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.context import Ctx, NotReadyYet
from core.storage import outbox
from core.storage.models import Conversation, InboxRow, Job, Parent, SentMessage
from flows.events import DeleteMessage, Inbound
from flows.safety.features import written_lang
from handoff.queries import OPEN

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


def first_language(ev: Inbound, available: tuple[str, ...]) -> str:
    """A new parent's language: the one their first message is plainly written in, else
    their phone's (a Spanish-speaking parent on an English phone reads Spanish). The same
    rule as the flow's first turn (``flows.parent.flow._Ctx``), which has the last word."""
    written = written_lang(ev.text) if ev.kind == "text" else None
    return written if written in available else language_from_hint(ev.language_code, available)


# The parent with their open conversation, in one query: every parent message needs both.
_PARENT_AND_OPEN = select(Parent, Conversation).outerjoin(
    Conversation, and_(Conversation.parent_id == Parent.id, Conversation.status.in_(OPEN)))
_WITH_OPEN = (_PARENT_AND_OPEN.where(Parent.tg_user_id == bindparam("uid"))
              .order_by(Conversation.id.desc()).limit(1))
_MANY_WITH_OPEN = (_PARENT_AND_OPEN
                   .where(Parent.tg_user_id.in_(bindparam("uids", expanding=True)))
                   .order_by(Conversation.id))


async def with_open_conversations(session: AsyncSession, user_ids: Collection[int]
                                  ) -> dict[int, tuple[Parent, Conversation | None]]:
    """:data:`_WITH_OPEN` for many parents in one query (a batch's first rows).

    What it returns stays true while a batch runs, for the first row of each parent's
    chat: nothing but that parent's own updates creates their conversation, and every
    change to a loaded conversation (ORM attributes, or an UPDATE followed by a refresh,
    see ``handoff.claim``) shows in these same objects. A conversation that has closed
    meanwhile is noticed by :func:`parent_and_open_conversation`, which then asks again.
    """
    if not user_ids:
        return {}
    found: dict[int, tuple[Parent, Conversation | None]] = {}
    rows = await session.execute(_MANY_WITH_OPEN, {"uids": list(user_ids)})
    for parent, conv in rows:
        found[parent.tg_user_id] = (parent, conv)  # ordered by id: the latest open one wins
    return found


async def parent_and_open_conversation(ctx: Ctx, ev: Inbound
                                       ) -> tuple[Parent, Conversation | None]:
    """The sender's parent record (created on first contact) and their queued or active
    conversation, as ``handoff.open_conversation`` would find it."""
    assert ev.user_id is not None
    known = ctx.known_parent
    found: Any = None
    if known is not None and known[0].tg_user_id == ev.user_id and (
            known[1] is None or known[1].status in OPEN):
        found = known
    else:
        # Without autoflush: other parents' pending updates are flushed together later
        # (``bot.app.processor._only_parent_updates``); this query cannot see them
        # differently.
        with ctx.session.no_autoflush:
            found = (await ctx.session.execute(_WITH_OPEN, {"uid": ev.user_id})).first()
    parent, conv = (found[0], found[1]) if found is not None else (None, None)
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
            lang=first_language(ev, tuple(ctx.content.languages)),
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
    return parent, conv


async def forget_parent(ctx: Ctx, parent: Parent) -> None:
    """Delete everything stored about ``parent`` except report decisions under legal hold.

    The bot's own recent messages in the chat are deleted too where Telegram still allows
    it (48 hours); what cannot be deleted is said honestly by the flow's final message.
    """
    chat_id = parent.chat_id
    if ctx.may_wait and await outbox.pending_in_chat(ctx.session, chat_id):
        # A message to them may be on its way right now; once it is recorded it can be
        # deleted too. The chat waits (in order) and this runs again shortly.
        raise NotReadyYet("forget waits for the chat's outbox")
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
