"""Queries the handoff services share: conversations, loads, the queue, the roster on duty.

Everything the handoff knows lives in the database (no module-level state), so a
restart or a second replica sees the same queue, claims, relays and held messages.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.storage.models import Conversation, ConversationStatus, OutboxRow, Parent, Staff
from handoff.policy import QueueView, StaffView

OPEN: tuple[ConversationStatus, ...] = ("queued", "active")


# Built once: every parent message asks this, and building costs more than running it.
_OPEN_OF = (
    select(Conversation)
    .where(Conversation.parent_id == bindparam("pid"), Conversation.status.in_(OPEN))
    .order_by(Conversation.id.desc())
    .limit(1)
)


async def open_conversation_of(session: AsyncSession, parent_id: int) -> Conversation | None:
    """The parent's queued or active conversation (at most one is ever open)."""
    row = await session.scalars(_OPEN_OF, {"pid": parent_id})
    return row.first()


async def active_of(session: AsyncSession, staff_id: int) -> list[Conversation]:
    """A specialist's active conversations, oldest claim first."""
    rows = await session.scalars(
        select(Conversation)
        .where(Conversation.specialist_id == staff_id, Conversation.status == "active")
        .order_by(Conversation.claimed_at, Conversation.id)
    )
    return list(rows)


async def active_count(session: AsyncSession, staff_id: int) -> int:
    n = await session.scalar(
        select(func.count())
        .select_from(Conversation)
        .where(Conversation.specialist_id == staff_id, Conversation.status == "active")
    )
    return int(n or 0)


async def queued(session: AsyncSession) -> list[Conversation]:
    rows = await session.scalars(select(Conversation).where(Conversation.status == "queued"))
    return list(rows)


async def on_duty(session: AsyncSession) -> list[Staff]:
    rows = await session.scalars(
        select(Staff).where(Staff.on_duty.is_(True)).order_by(Staff.tg_user_id)
    )
    return list(rows)


async def unreachable_staff(session: AsyncSession) -> list[Staff]:
    """Staff Telegram refused to deliver to (403) and who have not written since."""
    rows = await session.scalars(select(Staff).where(Staff.unreachable_at.is_not(None)))
    return list(rows)


async def coordinators(session: AsyncSession) -> list[Staff]:
    rows = await session.scalars(
        select(Staff).where(Staff.role == "coordinator").order_by(Staff.tg_user_id)
    )
    return list(rows)


async def loads(session: AsyncSession, staff_ids: Sequence[int]) -> dict[int, int]:
    """Active conversation count per staff id (zero for the idle)."""
    out = dict.fromkeys(staff_ids, 0)
    if not staff_ids:
        return out
    rows = await session.execute(
        select(Conversation.specialist_id, func.count())
        .where(Conversation.status == "active", Conversation.specialist_id.in_(staff_ids))
        .group_by(Conversation.specialist_id)
    )
    for sid, n in rows.all():
        if sid is not None:
            out[int(sid)] = int(n)
    return out


def queue_view(c: Conversation) -> QueueView:
    return QueueView(
        id=c.id,
        queued_at=c.queued_at,
        lang=c.lang,
        crisis=c.priority == "crisis",
        front=c.front_of_queue,
        requested_experience=c.requested_experience,
        experience_only=bool(c.experience_only),
        preferred_staff_id=c.preferred_staff_id,
        any_language_ok=c.any_language_ok,
        declined_by=tuple(c.declined_by or ()),
    )


def staff_view(s: Staff, active: int) -> StaffView:
    return StaffView(
        id=s.tg_user_id,
        languages=tuple(s.languages or ("en",)),
        experience=tuple(s.experience or ()),
        active=active,
        max_active=s.max_active,
        on_duty=s.on_duty,
        paused=s.paused,
    )


async def duty_views(session: AsyncSession) -> list[StaffView]:
    staff = await on_duty(session)
    counts = await loads(session, [s.tg_user_id for s in staff])
    return [staff_view(s, counts[s.tg_user_id]) for s in staff]


async def parent_of(session: AsyncSession, conv: Conversation) -> Parent | None:
    return await session.get(Parent, conv.parent_id)


async def requeue_all_of(session: AsyncSession, staff_id: int) -> list[Conversation]:
    """Put a staff member's active conversations back at the front of the queue."""
    convs = await active_of(session, staff_id)
    for c in convs:
        await session.execute(
            update(Conversation)
            .where(Conversation.id == c.id, Conversation.status == "active")
            .values(status="queued", specialist_id=None, front_of_queue=True, offered_staff_id=None)
            .execution_options(synchronize_session=False)
        )
        await session.refresh(c)
    return convs


async def waiting_alerts_pending(session: AsyncSession, chats: set[int], kind: str) -> set[int]:
    """Which of ``chats`` have an alert of ``kind`` in the outbox, not yet delivered."""
    if not chats:
        return set()
    rows = await session.execute(
        select(OutboxRow.chat_id, OutboxRow.meta).where(
            OutboxRow.status == "pending", OutboxRow.chat_id.in_(chats)
        )
    )
    return {int(chat) for chat, meta in rows
            if chat is not None and (meta or {}).get("alert") == kind}
