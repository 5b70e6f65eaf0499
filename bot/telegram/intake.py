"""Raw Bot API updates into the durable inbox (polling and the webhook both come here)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.telegram.updates import chat_id_of, check_update, sanitize
from core.storage.db import Database
from core.storage.inbox import Arrival, store_arrivals


def arrivals(updates: Iterable[dict[str, Any]]) -> list[Arrival]:
    """The updates the inbox can keep (those of a shape Telegram could send, see
    :func:`~bot.telegram.updates.check_update`), without names, usernames or phone numbers."""
    return [
        Arrival(upd["update_id"], chat_id_of(upd), sanitize(upd))
        for upd in updates
        if check_update(upd) is None
    ]


async def store_updates(db: Database, updates: Iterable[dict[str, Any]], now: datetime, *,
                        then: Callable[[AsyncSession], Awaitable[None]] | None = None) -> int:
    """Commit raw updates (deduplicated by ``update_id``); returns how many were new.

    The caller acknowledges to Telegram only after this returns. ``then`` runs in the
    same transaction (the poller records its next offset there).
    """
    return await store_arrivals(db, arrivals(updates), now, then=then)
