"""Processing inbox rows atomically, and the error boundary around it.

Rows are processed one per transaction (``process``) or, on SQLite, many per transaction
(``process_batch``), which falls back to the first way when anything in it fails.

Either everything an update causes is committed together — state, outbox rows, audit,
``processed_at`` — or nothing is, and the row is tried again. After repeated failures
the parent gets a gentle fallback message, and (because missing a crisis is the worst
failure this product can have) the text is screened once more on the way out, so a
crisis still gets the crisis lines even when the rest of the code is failing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, date, datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import parents
from bot.app.dispatch import dispatch, screened_text
from bot.app.parents import language_from_hint
from bot.telegram.outgoing import add_actions
from bot.telegram.updates import parse_update
from core.config import Settings
from core.context import Ctx, write_counters
from core.storage import hot, inbox, outbox
from core.storage.db import Database
from core.storage.models import InboxRow, OutboxRow, Parent, Staff
from flows.content import ContentStore
from flows.events import Action, AnswerCallback, Inbound, SendText
from flows.safety import assess
from flows.safety import prescreen as safety_prescreen
from flows.safety.response import crisis_reply

log = logging.getLogger(__name__)


# Texts longer than this are screened in a worker thread before dispatch (a short one
# costs well under a millisecond, less than the thread hop).
PRESCREEN_CHARS = 200
# While that thread screens, it and the event loop share the GIL, which CPython hands
# over every 5 ms by default: the loop then stalls 5-15 ms a long message. Handing it
# over every millisecond roughly halves the stall (``bench/screening.py``); the cost, a
# few microseconds a switch, is only paid while a second thread is actually running.
GIL_SWITCH_SECONDS = 0.001


async def prescreen(events: Sequence[Inbound]) -> None:
    """Screen the long texts among ``events`` in a worker thread, so the dispatcher's
    ``assess`` finds them screened and the event loop is never held up by a long message
    (a 4,096-character one takes tens of milliseconds on one core)."""
    texts = [t for ev in events if (t := screened_text(ev)) and len(t) > PRESCREEN_CHARS]
    if texts:
        await asyncio.to_thread(safety_prescreen, texts)


def event_of(row: InboxRow | inbox.Pending) -> Inbound:
    payload = row.payload or {}
    if "internal" in payload:
        return Inbound(kind="internal", chat_id=row.chat_id, internal=dict(payload["internal"]))
    return parse_update(payload)


_STAFF_IDS = hot.HotStatement(lambda _: select(Staff.tg_user_id))


def _only_parent_updates(session: AsyncSession) -> bool:
    """Whether the only unflushed changes are to parents' own rows (their flow state,
    last seen, flood counters): then the next row need not wait for a flush.

    Each row of a batch must see what earlier rows changed, so the batch flushes after
    a row; but most rows change nothing except their parent. Those parents' UPDATEs are
    left to the next flush, where SQLAlchemy sends them together (grouped into a few
    statements) instead of a unit-of-work pass per row (``docs/performance.md``). This is
    safe because the line reads parents only through ORM queries, which flush pending
    changes first, except the parent lookup itself, which matches on ``tg_user_id`` (never
    changed) and hands back the same objects, pending changes included.
    """
    return not session.new and not session.deleted and all(
        isinstance(obj, Parent) for obj in session.dirty)


def _first_parent_rows(rows: Sequence[inbox.Pending], events: Sequence[Inbound],
                       staff_ids: frozenset[int]) -> dict[int, int]:
    """Position -> user id of each chat's first row, where that row is a parent's own
    message, command or button (see ``dispatch``): their records are read in one query."""
    firsts: dict[int, int] = {}
    seen: set[int] = set()
    for i, (row, ev) in enumerate(zip(rows, events, strict=True)):
        if row.chat_id in seen:
            continue
        seen.add(row.chat_id)
        if (ev.kind not in ("internal", "group", "member") and ev.chat_type == "private"
                and ev.user_id is not None and ev.user_id not in staff_ids):
            firsts[i] = ev.user_id
    return firsts


class RowByRow(Exception):
    """This update must be processed alone (its effects reach past its own row)."""


class BatchFailed(Exception):
    """A row of a batch raised (or must wait); the batch was rolled back."""

    def __init__(self, chat_ids: set[int]) -> None:
        super().__init__(f"{len(chat_ids)} chats")
        self.chat_ids = chat_ids


class Processor:
    """Turns inbox rows into state changes and outbox rows."""

    def __init__(self, db: Database, settings: Settings, content: ContentStore,
                 after_commit: Callable[[], None] = lambda: None,
                 handoff_rows: Callable[[Sequence[OutboxRow]], None] | None = None) -> None:
        """``handoff_rows`` (one process on SQLite) receives, right after a batch commits,
        every pending outbox row of the chats the batch wrote to, so the sender can start
        on them without querying for them again."""
        self.db = db
        self.settings = settings
        self.content = content
        self.after_commit = after_commit
        self.handoff_rows = handoff_rows

    async def process(self, row_id: int, *, may_wait: bool = True) -> None:
        now = datetime.now(UTC)
        async with self.db.tx() as session:
            row = await session.get(InboxRow, row_id)
            if row is None or row.processed_at is not None:
                return
            ctx = Ctx(session=session, now=now, settings=self.settings,
                      content=self.content.current, may_wait=may_wait)
            ev = event_of(row)
            await prescreen([ev])
            await dispatch(ctx, ev)
            await add_actions(session, ctx.actions, now)
            if ctx.drop_current_update:
                await session.execute(delete(InboxRow).where(InboxRow.id == row_id))
            else:
                row.processed_at = now
        self.after_commit()

    async def process_batch(self, limit: int, *, exclude: Collection[int] = (),
                            settled_before: datetime | None = None,
                            budget: float | None = None) -> tuple[int, bool]:
        """The oldest pending rows of any chats (each chat's in order), in ONE transaction;
        returns how many rows were processed and whether pending rows were left for later.

        One transaction per row costs a session, a commit and several bookkeeping
        statements per message; sharing them is most of what keeps a single SQLite
        process ahead of a busy evening (``docs/performance.md``). All or nothing: if
        any row raises, nothing is kept and :class:`BatchFailed` names the chats, which
        the workers then take one row at a time, with the retries and the last-resort
        fallback of :meth:`process`.

        ``budget`` (seconds) bounds how long one batch holds the event loop: on the inline
        SQLite connection nothing else runs meanwhile (no webhook is read, no reply is
        sent), so a batch of 64 rows at 2-3 ms each held every other chat for 150 ms.
        Once the budget is spent, the rows done so far are committed and the rest stay
        pending, in order, for the next batch; the first row is always done.
        """
        now = datetime.now(UTC)
        started = time.perf_counter()
        chats: set[int] = set()
        left = False
        try:
            async with self.db.tx() as session:
                rows = await inbox.pending_rows(session, limit, exclude, settled_before)
                if not rows:
                    return 0, False
                chats.update(r.chat_id for r in rows)
                staff_ids = frozenset(r[0] for r in await hot.rows(session, _STAFF_IDS))
                counters: dict[tuple[date, str], int] = {}
                done: list[int] = []
                actions: list[Action] = []
                content = self.content.current
                events = [event_of(row) for row in rows]
                await prescreen(events)
                firsts = _first_parent_rows(rows, events, staff_ids)
                known = await parents.with_open_conversations(session, set(firsts.values()))
                for i, (row, ev) in enumerate(zip(rows, events, strict=True)):
                    if budget is not None and done and time.perf_counter() - started > budget:
                        left = True  # the rest of the rows wait for the next batch
                        break
                    uid = firsts.get(i)
                    ctx = Ctx(session=session, now=now, settings=self.settings,
                              content=content, staff_ids=staff_ids, counters=counters,
                              earlier=actions,
                              known_parent=known.get(uid) if uid is not None else None)
                    await dispatch(ctx, ev)
                    if not _only_parent_updates(session):
                        await session.flush()  # each row starts from flushed state, as alone
                    if ctx.drop_current_update:
                        # /forget deletes what earlier rows of this batch are about to
                        # write; rather than mirror it here, the batch goes row by row.
                        raise RowByRow("forget")
                    done.append(row.id)
                    actions += ctx.actions
                # One multi-row INSERT for every reply of the batch, in order.
                await add_actions(session, actions, now)
                pending: Sequence[OutboxRow] = ()
                if self.handoff_rows is not None and actions:
                    targets = {getattr(a, "chat_id", None) for a in actions}
                    pending = await outbox.pending_rows_of(session, targets)
                await write_counters(session, counters)
                await inbox.mark_processed(session, done, now)
        except Exception as exc:
            if not chats:
                raise
            raise BatchFailed(chats) from exc
        if pending and self.handoff_rows is not None:
            # No await between the commit and this: the snapshot is still exact (the
            # sender's own bookkeeping waits for the same write lock).
            self.handoff_rows(pending)
        else:
            self.after_commit()
        return len(done), left or len(rows) >= limit

    async def give_up(self, row: InboxRow) -> None:
        """Last resort for a row that failed repeatedly: never leave a parent unanswered."""
        ev = event_of(row)
        if ev.kind == "internal" or ev.chat_type != "private" or ev.chat_id == 0:
            return
        now = datetime.now(UTC)
        content = self.content.current
        text = screened_text(ev)
        lang = language_from_hint(ev.language_code, tuple(content.languages))
        actions: list[SendText | AnswerCallback] = []
        if text:
            await prescreen([ev])
            a = assess(text, None)
            if a.crisis or a.concern:  # no chance to ask directly here: give the lines
                actions.append(SendText(ev.chat_id, crisis_reply(
                    a.category, lang, content, now, categories=a.categories)))
                log.error("crisis message could not be fully processed; crisis lines sent")
        actions.append(SendText(ev.chat_id, content.text("common.fallback_error", lang)))
        if ev.callback_id:
            actions.append(AnswerCallback(ev.callback_id))
        async with self.db.tx() as session:
            await add_actions(session, actions, now)
        self.after_commit()
