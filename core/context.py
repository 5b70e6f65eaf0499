"""The unit of work for one processed update.

Everything a handler does — state changes, outgoing messages, audit entries, scheduled
jobs — goes through one :class:`Ctx` bound to one database transaction. The outgoing
messages are written to the outbox in that same transaction, so either all of it happens
or none of it does, and a crash can never send a reply for a change that was rolled back.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.config import Settings
from core.storage import hot
from core.storage.models import AuditEntry, Conversation, DailyStat, Job, Parent
from flows.callbacks import encode
from flows.content import Content
from flows.events import Action, Button, SendText


class NotReadyYet(Exception):
    """Processing depends on something about to be recorded (e.g. the id Telegram gives a
    relayed copy); the worker rolls back and tries this update again shortly, keeping the
    chat's order."""


@dataclass
class Ctx:
    """What a handler may touch while processing one inbound event."""

    session: AsyncSession
    now: datetime
    settings: Settings
    content: Content
    actions: list[Action] = field(default_factory=list)
    # Set by /forget: the update being processed is deleted instead of kept until purge.
    drop_current_update: bool = False
    # False on the last try of an update that kept raising NotReadyYet: decide now.
    may_wait: bool = True
    # Set when several updates share one transaction (``Processor.process_batch``): the
    # roster's ids read once for all of them, and counters added up and written once.
    staff_ids: frozenset[int] | None = None
    counters: dict[tuple[date, str], int] | None = None
    # What earlier updates of the same batch will send (not in the outbox table yet).
    earlier: Sequence[Action] = ()
    # The sender's parent and open conversation, read for the whole batch at its start
    # (``bot.app.parents.with_open_conversations``); only the first row of a chat gets it.
    known_parent: tuple[Parent, Conversation | None] | None = None

    @property
    def secret(self) -> bytes:
        return self.settings.secret

    # --- saying things ---------------------------------------------------------------------

    def text(self, key: str, lang: str, **params: Any) -> str:
        return self.content.text(key, lang, **params)

    def send(self, action: Action) -> None:
        self.actions.append(action)

    def say(
        self,
        chat_id: int,
        key: str,
        lang: str,
        *,
        buttons: tuple[tuple[Button, ...], ...] = (),
        reply_to: int | None = None,
        meta: dict[str, Any] | None = None,
        **params: Any,
    ) -> None:
        """Send the content text ``key`` (the only way the line speaks besides a specialist)."""
        self.actions.append(
            SendText(
                chat_id,
                self.content.text(key, lang, **params),
                buttons=buttons,
                reply_to_message_id=reply_to,
                meta=meta or {},
            )
        )

    def button(self, chat_id: int, label: str, action: str, arg: str = "") -> Button:
        """A signed button for ``chat_id`` (``label`` is already-resolved content text)."""
        return Button(label, encode(self.secret, chat_id, action, arg))

    def text_button(self, chat_id: int, key: str, lang: str, action: str, arg: str = "") -> Button:
        return self.button(chat_id, self.content.text(key, lang), action, arg)

    # --- records ---------------------------------------------------------------------------

    async def audit(
        self,
        actor: str,
        action: str,
        *,
        pseudonym: str | None = None,
        category: str | None = None,
        evidence: list[str] | tuple[str, ...] = (),
        details: dict[str, Any] | None = None,
        legal_hold: bool = False,
    ) -> None:
        """An audit entry. Never pass message text here."""
        self.session.add(
            AuditEntry(
                at=self.now,
                actor=actor,
                action=action,
                pseudonym=pseudonym,
                category=category,
                evidence=list(evidence),
                details=details or {},
                legal_hold=legal_hold,
            )
        )

    async def bump(self, metric: str, n: int = 1, day: date | None = None) -> None:
        """Add ``n`` to today's aggregate counter (kept after texts are purged)."""
        d = day or self.now.date()
        if self.counters is not None:
            self.counters[(d, metric)] = self.counters.get((d, metric), 0) + n
            return
        await write_counters(self.session, {(d, metric): n})

    async def schedule(
        self,
        kind: str,
        due_at: datetime,
        *,
        chat_id: int | None = None,
        parent_id: int | None = None,
        payload: dict[str, Any] | None = None,
    ) -> Job:
        """A job delivered later as an ``internal`` inbound event in ``chat_id``'s order."""
        job = Job(
            kind=kind,
            due_at=due_at,
            chat_id=chat_id,
            parent_id=parent_id,
            payload=payload or {},
            done_at=None,
        )
        self.session.add(job)
        await self.session.flush()
        return job

    async def cancel_jobs(self, *, kind: str | None = None, parent_id: int | None = None,
                          chat_id: int | None = None) -> None:
        stmt = _cancel_statement(kind is not None, parent_id is not None, chat_id is not None)
        await self.session.execute(stmt, {"b_kind": kind, "b_pid": parent_id,
                                          "b_chat": chat_id, "b_now": self.now})

    async def pending_jobs(self, kind: str, chat_id: int) -> list[Job]:
        rows = await self.session.scalars(
            select(Job).where(Job.kind == kind, Job.chat_id == chat_id, Job.done_at.is_(None))
        )
        return list(rows)


@functools.cache
def _cancel_statement(kind: bool, parent: bool, chat: bool) -> Any:
    """``UPDATE jobs SET done_at`` for the filters given, built once per shape (a crisis
    cancels jobs on every message, and building the statement cost more than running it)."""
    q = update(Job).where(Job.done_at.is_(None))
    if kind:
        q = q.where(Job.kind == bindparam("b_kind"))
    if parent:
        q = q.where(Job.parent_id == bindparam("b_pid"))
    if chat:
        q = q.where(Job.chat_id == bindparam("b_chat"))
    return q.values(done_at=bindparam("b_now"))


def _counter_upsert(insert: Any) -> Any:
    stmt = insert(_DAILY)
    return stmt.on_conflict_do_update(index_elements=["day", "metric"],
                                      set_={"value": _DAILY.c.value + stmt.excluded.value})


_DAILY = cast(Table, DailyStat.__table__)
# Built once: the batch writes counters on every commit.
_COUNTER_UPSERT = hot.HotStatement(_counter_upsert, keys=("day", "metric", "value"))


async def write_counters(session: AsyncSession, counters: dict[tuple[date, str], int]) -> None:
    """Add each ``(day, metric): n`` to its daily counter.

    An upsert, so two workers or replicas counting the first event of a day never
    collide on the key.
    """
    if not counters:
        return
    await hot.execute(session, _COUNTER_UPSERT, [
        {"day": d, "metric": metric, "value": n} for (d, metric), n in sorted(counters.items())])
