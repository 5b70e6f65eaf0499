"""Atomic claims: exactly one specialist gets a waiting parent, and nobody passes their cap.

Two rules make this safe across replicas without any in-process lock:

1. The claim is one conditional ``UPDATE ... WHERE id = :c AND status = 'queued'``;
   the database lets exactly one such update match, and ``rowcount`` says who won.
2. The cap check locks the specialist's own row first (``SELECT ... FOR UPDATE`` on
   PostgreSQL; SQLite has a single writer anyway), so two Take presses by the same
   specialist on two replicas cannot both count "2 of 3" and end at 4.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.storage.models import Conversation, Staff
from handoff.policy import has_room
from handoff.queries import active_count

ClaimOutcome = Literal["won", "taken", "cap", "off_duty", "gone"]


async def lock_staff(session: AsyncSession, staff_id: int) -> Staff | None:
    """The staff row, locked until the transaction ends (PostgreSQL), and fresh."""
    rows = await session.scalars(
        select(Staff)
        .where(Staff.tg_user_id == staff_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return rows.first()


def _rowcount(res: object) -> int:
    return int(res.rowcount) if isinstance(res, CursorResult) else 0


async def claim(session: AsyncSession, conv_id: int, staff_id: int, now: datetime) -> ClaimOutcome:
    """Try to make ``staff_id`` the specialist of queued conversation ``conv_id``."""
    staff = await lock_staff(session, staff_id)
    if staff is None or not staff.on_duty:
        return "off_duty"
    if not has_room(await active_count(session, staff_id), staff.max_active):
        return "cap"
    res = await session.execute(
        update(Conversation)
        .where(Conversation.id == conv_id, Conversation.status == "queued")
        .values(
            status="active",
            specialist_id=staff_id,
            claimed_at=now,
            front_of_queue=False,
            offered_staff_id=None,
        )
        .execution_options(synchronize_session=False)
    )
    if _rowcount(res) == 1:
        await _refresh(session, conv_id)
        return "won"
    conv = await session.get(Conversation, conv_id, populate_existing=True)
    return "gone" if conv is None or conv.status == "ended" else "taken"


async def move(
    session: AsyncSession, conv_id: int, from_staff: int, to_staff: int, now: datetime
) -> ClaimOutcome:
    """Hand an active conversation straight to another specialist (transfer, /offduty)."""
    staff = await lock_staff(session, to_staff)
    if staff is None or not staff.on_duty or staff.paused:
        return "off_duty"
    if not has_room(await active_count(session, to_staff), staff.max_active):
        return "cap"
    res = await session.execute(
        update(Conversation)
        .where(
            Conversation.id == conv_id,
            Conversation.status == "active",
            Conversation.specialist_id == from_staff,
        )
        .values(specialist_id=to_staff, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(res) == 1:
        await _refresh(session, conv_id)
        return "won"
    return "gone"


async def release(session: AsyncSession, conv_id: int, from_staff: int) -> bool:
    """Send an active conversation back to the front of the queue."""
    res = await session.execute(
        update(Conversation)
        .where(
            Conversation.id == conv_id,
            Conversation.status == "active",
            Conversation.specialist_id == from_staff,
        )
        .values(status="queued", specialist_id=None, front_of_queue=True, offered_staff_id=None)
        .execution_options(synchronize_session=False)
    )
    ok = _rowcount(res) == 1
    if ok:
        await _refresh(session, conv_id)
    return ok


async def _refresh(session: AsyncSession, conv_id: int) -> None:
    await session.get(Conversation, conv_id, populate_existing=True)
