"""Processing one inbox row in one transaction, and the error boundary around it.

Either everything an update causes is committed together — state, outbox rows, audit,
``processed_at`` — or nothing is, and the row is tried again. After repeated failures
the parent gets a gentle fallback message, and (because missing a crisis is the worst
failure this product can have) the text is screened once more on the way out, so a
crisis still gets the crisis lines even when the rest of the code is failing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import delete

from bot.app.context import Ctx
from bot.app.dispatch import dispatch, screened_text
from bot.config import Settings
from bot.storage import outbox
from bot.storage.db import Database
from bot.storage.models import InboxRow
from bot.telegram.parse import parse_update
from flows.content import ContentStore
from flows.events import AnswerCallback, Inbound, SendText
from flows.safety import assess
from flows.safety.response import crisis_reply

log = logging.getLogger(__name__)


def event_of(row: InboxRow) -> Inbound:
    payload = row.payload or {}
    if "internal" in payload:
        return Inbound(kind="internal", chat_id=row.chat_id, internal=dict(payload["internal"]))
    return parse_update(payload)


class Processor:
    """Turns inbox rows into state changes and outbox rows."""

    def __init__(self, db: Database, settings: Settings, content: ContentStore,
                 after_commit: Callable[[], None] = lambda: None) -> None:
        self.db = db
        self.settings = settings
        self.content = content
        self.after_commit = after_commit

    async def process(self, row_id: int, *, may_wait: bool = True) -> None:
        now = datetime.now(UTC)
        async with self.db.tx() as session:
            row = await session.get(InboxRow, row_id)
            if row is None or row.processed_at is not None:
                return
            ctx = Ctx(session=session, now=now, settings=self.settings,
                      content=self.content.current, may_wait=may_wait)
            await dispatch(ctx, event_of(row))
            outbox.add_actions(session, ctx.actions, now)
            if ctx.drop_current_update:
                await session.execute(delete(InboxRow).where(InboxRow.id == row_id))
            else:
                row.processed_at = now
        self.after_commit()

    async def give_up(self, row: InboxRow) -> None:
        """Last resort for a row that failed repeatedly: never leave a parent unanswered."""
        ev = event_of(row)
        if ev.kind == "internal" or ev.chat_type != "private" or ev.chat_id == 0:
            return
        now = datetime.now(UTC)
        content = self.content.current
        text = screened_text(ev)
        lang = "es" if (ev.language_code or "").startswith("es") else "en"
        actions: list[SendText | AnswerCallback] = []
        if text:
            a = assess(text, None)
            if a.crisis:
                actions.append(SendText(ev.chat_id, crisis_reply(a.category, lang, content, now)))
                log.error("crisis message could not be fully processed; crisis lines sent")
        actions.append(SendText(ev.chat_id, content.text("common.fallback_error", lang)))
        if ev.callback_id:
            actions.append(AnswerCallback(ev.callback_id))
        async with self.db.tx() as session:
            outbox.add_actions(session, actions, now)
        self.after_commit()
