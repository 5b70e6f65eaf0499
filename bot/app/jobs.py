"""Due jobs become inbox events; retention purges old text. Both survive restarts.

A job (a check-in, a reminder, a timeout) is delivered as an ``internal`` inbox row in
its chat, so it is processed in order with that chat's messages and inside the same
transactional pipeline. Taking a job is a conditional update: with several replicas,
exactly one of them enqueues it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.storage import inbox, outbox
from core.storage.db import Database
from core.storage.models import Conversation, Job, LoginToken, Parent
from flows.parent.card import CARD
from flows.parent.machine import LISTENING, REVIEWING_CARD
from flows.safety import ask

log = logging.getLogger(__name__)
CARD_DRAFT_KEPT = timedelta(days=1)


async def enqueue_due_jobs(db: Database, now: datetime, limit: int = 200) -> int:
    async with db.read() as s:
        due = list(await s.scalars(
            select(Job).where(Job.done_at.is_(None), Job.due_at <= now)
            .order_by(Job.due_at).limit(limit)
        ))
    n = 0
    for job in due:
        async with db.tx() as s:
            res = await s.execute(
                update(Job).where(Job.id == job.id, Job.done_at.is_(None)).values(done_at=now)
            )
            if not getattr(res, "rowcount", 0):
                continue
            payload = {"job": job.kind, "job_id": job.id, "parent_id": job.parent_id,
                       **(job.payload or {})}
            await inbox.enqueue_internal(s, db.sqlite, f"job:{job.id}", job.chat_id or 0,
                                         payload, now)
            n += 1
    return n


async def purge(db: Database, now: datetime, retention_days: int) -> dict[str, int]:
    """Delete message text past retention. Counts (``daily_stats``) and report decisions stay."""
    cutoff = now - timedelta(days=retention_days)
    async with db.tx() as s:
        n_in = await inbox.purge_processed(s, cutoff)
        n_out = await outbox.purge_delivered(s, min(cutoff, now - timedelta(days=2)))
        res = await s.execute(
            update(Conversation)
            .where(Conversation.status == "ended", Conversation.ended_at < cutoff)
            .values(waiting_note=None, card_line=None, specialist_note=None, handoff_notes=[])
        )
        drafts = await _purge_unsent_cards(s, now - CARD_DRAFT_KEPT)
        await s.execute(delete(Job).where(Job.done_at.is_not(None), Job.done_at < cutoff))
        windows = await s.execute(  # the screen's window is never older than an hour
            update(Parent)
            .where(Parent.screen_window_at < now - timedelta(minutes=ask.WINDOW_MINUTES))
            .values(screen_window=None, screen_window_at=None)
        )
        await s.execute(delete(LoginToken).where(LoginToken.expires_at < now))
    return {"inbox": n_in, "outbox": n_out,
            "conversations": int(getattr(res, "rowcount", 0) or 0),
            "screen_windows": int(getattr(windows, "rowcount", 0) or 0),
            "card_drafts": drafts}


async def _purge_unsent_cards(s: AsyncSession, cutoff: datetime) -> int:
    """A handoff card a parent never sent (their line in their own words) goes after a day."""
    parents = await s.scalars(select(Parent).where(
        Parent.flow_state == REVIEWING_CARD, Parent.last_seen_at < cutoff))
    n = 0
    for parent in parents:
        parent.flow_data = {k: v for k, v in (parent.flow_data or {}).items() if k != CARD}
        parent.flow_state = LISTENING
        n += 1
    return n


class JobRunner:
    """Polls for due jobs every ``interval`` seconds and purges hourly."""

    def __init__(self, db: Database, retention_days: int, on_enqueued: asyncio.Event,
                 interval: float = 1.0) -> None:
        self.db = db
        self.retention_days = retention_days
        self.on_enqueued = on_enqueued
        self.interval = interval
        self._stopping = asyncio.Event()
        self._last_purge: datetime | None = None

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            now = datetime.now(UTC)
            try:
                if await enqueue_due_jobs(self.db, now):
                    self.on_enqueued.set()
                if self._last_purge is None or now - self._last_purge > timedelta(hours=1):
                    counts = await purge(self.db, now, self.retention_days)
                    self._last_purge = now
                    log.info("retention purge: %s", counts)
            except Exception:
                log.exception("job runner failed this round")
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=self.interval)
            except TimeoutError:
                pass
