"""The staff group chat as Telegram has it now, not only as it was configured.

Two things happen to a staff group that would otherwise silence every staff alert (crisis
alerts included):

* **It is upgraded to a supergroup** (Telegram does this when a group grows or an admin
  changes certain settings). The group gets a new id; the old one answers 400 "group chat
  was upgraded to a supergroup chat" with ``migrate_to_chat_id``. The line follows it: the
  refused message is sent again to the new id, the new id is kept in the ``kv`` table (so
  a restart keeps using it while ``PARENTLINE_STAFF_CHAT_ID`` still names the old group),
  the new supergroup is the staff chat (never "private chats only", never left), and the
  staff chat is told once.
* **The bot is removed from it** (``my_chat_member`` ``left``/``kicked``, or a 403 on a
  send). Kept in ``kv`` too, so ``/readyz`` and ``/metrics`` say so on every replica and
  after a restart, until the bot is back (added again, or a send there succeeds).

The effective id is what ``settings.staff_chat_id`` holds while the line runs (the
handoff reads it there); :class:`StaffChat` keeps the configured one apart and every
replica refreshes from the database every few seconds. Logs carry chat ids, never titles
or names.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from core.config import Settings
from core.context import Ctx
from core.storage.db import Database, PerBackend
from core.storage.models import KeyValue
from flows.events import Inbound

log = logging.getLogger(__name__)

MIGRATED_KEY = "staff_chat_id"  # {"configured": old id, "chat_id": new id, "former": [...]}
REMOVED_KEY = "staff_chat_removed"  # {"chat_id": ..., "status": "kicked"|"left"|"403", "at"}
NOTICE_PREFIX = "staff_chat_noticed:"  # + the old id: the staff chat was told once
REFRESH_SECONDS = 5.0
NOTICE_KEY_TEXT = "staff.chat_migrated"
NOTICE_LANG = "en"  # the staff chat's language (handoff.alerts.STAFF_CHAT_LANG)


def _upsert(insert: Any) -> Any:
    stmt = insert(KeyValue)
    return stmt.on_conflict_do_update(index_elements=["key"],
                                      set_={"value": stmt.excluded.value})


def _insert_new(insert: Any) -> Any:
    # RETURNING, not rowcount: a row comes back only when this insert made it (the inline
    # SQLite driver does not report rowcount).
    return insert(KeyValue).on_conflict_do_nothing(index_elements=["key"]).returning(
        KeyValue.key)


_UPSERT = PerBackend(_upsert)
_INSERT_NEW = PerBackend(_insert_new)


@dataclass(frozen=True)
class Stored:
    """What the database says about the staff chat."""

    configured: int | None = None  # the id the migration started from
    chat_id: int | None = None  # where alerts go now
    former: frozenset[int] = frozenset()
    removed: dict[str, Any] | None = None

    def follows(self, configured: int | None) -> bool:
        """Does the stored migration apply to this configured id?"""
        return configured is not None and self.chat_id is not None and (
            configured == self.configured or configured in self.former)


def _json(value: str | None) -> dict[str, Any] | None:
    if not value:
        return None
    try:
        data = json.loads(value)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


async def read(session: AsyncSession) -> Stored:
    migrated = await session.get(KeyValue, MIGRATED_KEY)
    removed = await session.get(KeyValue, REMOVED_KEY)
    m = _json(migrated.value if migrated else None) or {}
    former = frozenset(int(x) for x in m.get("former", []) if isinstance(x, int))
    return Stored(configured=m.get("configured") if isinstance(m.get("configured"), int) else None,
                  chat_id=m.get("chat_id") if isinstance(m.get("chat_id"), int) else None,
                  former=former, removed=_json(removed.value if removed else None))


async def _put(session: AsyncSession, key: str, value: dict[str, Any]) -> None:
    await session.execute(_UPSERT.of(session), {"key": key, "value": json.dumps(value)})


async def save_migration(session: AsyncSession, old: int, new: int, now: datetime) -> None:
    """Alerts go to ``new`` from now on; ``old`` (and what it replaced) is remembered."""
    stored = await read(session)
    configured = stored.configured if stored.chat_id == old or old in stored.former else old
    former = sorted((stored.former | {old}) - {new}) if stored.chat_id is not None else [old]
    await _put(session, MIGRATED_KEY, {"configured": configured, "chat_id": new,
                                       "former": former, "at": now.isoformat()})
    removed = stored.removed
    if removed is not None and removed.get("chat_id") == old:
        await session.execute(delete(KeyValue).where(KeyValue.key == REMOVED_KEY))


async def first_notice(session: AsyncSession, old: int, now: datetime) -> bool:
    """True only for the first caller about this upgrade (the staff chat is told once)."""
    result = await session.execute(_INSERT_NEW.of(session),
                                   {"key": f"{NOTICE_PREFIX}{old}", "value": now.isoformat()})
    return result.first() is not None


async def save_removed(session: AsyncSession, chat_id: int, status: str, now: datetime) -> None:
    await _put(session, REMOVED_KEY, {"chat_id": chat_id, "status": status,
                                      "at": now.isoformat()})


async def clear_removed(session: AsyncSession) -> bool:
    result = await session.execute(
        delete(KeyValue).where(KeyValue.key == REMOVED_KEY).returning(KeyValue.key))
    return result.first() is not None


# A 400 for the staff chat that no retry mends, with the sentence that says what to do
# (Bot API wording: telegram-bot-api/Client.cpp "chat not found"; TDLib MessageContent.cpp
# "Not enough rights to send text messages to the chat", passed on lower-cased).
UNWRITABLE: dict[str, str] = {
    "chat not found": (
        "Telegram does not know the staff group (chat {chat}, chat not found), so staff "
        "alerts cannot reach it: check PARENTLINE_STAFF_CHAT_ID (a group's id starts with "
        "-) and that the bot was added to that group."),
    "not enough rights to send": (
        "The bot may not write in the staff group (chat {chat}, not enough rights), so "
        "staff alerts cannot reach it: let members send messages there, or make the bot an "
        "admin of the group."),
}


def unwritable(error: str) -> str | None:
    """Which of :data:`UNWRITABLE` a refused call's error is, if any."""
    lowered = error.lower()
    return next((key for key in UNWRITABLE if key in lowered), None)


def removed_reason(removed: dict[str, Any] | None) -> str | None:
    """The one sentence /readyz gives while staff alerts cannot reach the staff group."""
    if removed is None:
        return None
    status = str(removed.get("status"))
    if status in UNWRITABLE:
        return UNWRITABLE[status].format(chat=removed.get("chat_id"))
    return (f"The bot is not in the staff group (chat {removed.get('chat_id')}, "
            f"{removed.get('status')}), so staff alerts cannot reach it: add the bot to the "
            "group again, or set PARENTLINE_STAFF_CHAT_ID to a group it is in.")


# --- while processing an update (dispatch) ------------------------------------------------


async def _known_ids(ctx: Ctx) -> set[int]:
    ids = {ctx.settings.staff_chat_id} if ctx.settings.staff_chat_id is not None else set()
    if not ids:
        return ids
    stored = await read(ctx.session)
    if stored.chat_id is not None and (stored.chat_id in ids or ids & stored.former):
        ids |= stored.former | {stored.chat_id}
    return ids


async def is_staff_chat(ctx: Ctx, chat_id: int) -> bool:
    """The configured staff chat, what it became, or what it was before an upgrade."""
    if ctx.settings.staff_chat_id is None:
        return False
    if chat_id == ctx.settings.staff_chat_id:
        return True
    return chat_id in await _known_ids(ctx)


async def follow_upgrade(ctx: Ctx, ev: Inbound) -> bool:
    """A ``migrate_to_chat_id`` / ``migrate_from_chat_id`` service message. True when it is
    about the staff chat (which then moves to the supergroup, and is told once)."""
    if ev.migrate_to_chat_id is not None:
        old, new = ev.chat_id, ev.migrate_to_chat_id
    elif ev.migrate_from_chat_id is not None:
        old, new = ev.migrate_from_chat_id, ev.chat_id
    else:
        return False
    known = await _known_ids(ctx)
    if old not in known and new not in known:
        return False
    if ctx.settings.staff_chat_id != new:
        await save_migration(ctx.session, old, new, ctx.now)
        ctx.settings.staff_chat_id = new
        log.warning("staff chat %s was upgraded to supergroup %s; staff alerts go there now",
                    old, new)
    if await first_notice(ctx.session, old, ctx.now):
        ctx.say(new, NOTICE_KEY_TEXT, NOTICE_LANG, old=old, new=new)
    return True


async def member_changed(ctx: Ctx, ev: Inbound) -> None:
    """The bot's own membership in the staff chat changed (``my_chat_member``)."""
    status = ev.text or ""
    if status in ("left", "kicked"):
        await save_removed(ctx.session, ev.chat_id, status, ctx.now)
        log.error("the bot was removed from the staff group (chat %s, %s): staff alerts "
                  "cannot reach it until someone adds the bot back", ev.chat_id, status)
    elif status in ("member", "administrator", "creator", "restricted"):
        if await clear_removed(ctx.session):
            log.warning("the bot is back in the staff group (chat %s)", ev.chat_id)


# --- in the running process (the sender's side, readiness) --------------------------------


@dataclass
class StaffChat:
    """Per process: the configured id, where alerts go now, and whether the bot is out."""

    settings: Settings
    db: Database
    configured: int | None = None
    former: set[int] = field(default_factory=set)
    removed: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        self.configured = self.settings.staff_chat_id

    @property
    def chat_id(self) -> int | None:
        return self.settings.staff_chat_id

    def is_staff(self, chat_id: int | None) -> bool:
        return chat_id is not None and self.chat_id is not None and (
            chat_id == self.chat_id or chat_id in self.former)

    def route(self, chat_id: int | None) -> int | None:
        """A row queued for the staff chat's old id goes to the new one."""
        if chat_id is not None and chat_id in self.former and self.chat_id is not None:
            return self.chat_id
        return chat_id

    async def load(self) -> None:
        if self.configured is None:
            return
        async with self.db.read() as s:
            stored = await read(s)
        self._apply(stored)

    def _apply(self, stored: Stored) -> None:
        if (stored.follows(self.configured) and stored.chat_id is not None
                and self.configured is not None):
            if self.settings.staff_chat_id != stored.chat_id:
                log.info("staff chat: using supergroup %s (PARENTLINE_STAFF_CHAT_ID names %s, "
                         "which Telegram upgraded)", stored.chat_id, self.configured)
            self.settings.staff_chat_id = stored.chat_id
            self.former = (set(stored.former) | {self.configured}) - {stored.chat_id}
        removed = stored.removed
        self.removed = removed if removed is not None and self.is_staff(
            removed.get("chat_id")) else None

    async def refresh_forever(self) -> None:
        """Other replicas learn an upgrade or a removal from the database."""
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            try:
                await self.load()
            except Exception as exc:
                log.warning("staff chat: could not refresh (%s)", type(exc).__name__)

    async def migrated(self, old: int, new: int) -> None:
        """A send to ``old`` was refused: the group is now supergroup ``new``."""
        if self.chat_id != new:
            async with self.db.tx() as s:
                await save_migration(s, old, new, datetime.now(UTC))
            self.former = (self.former | {old}) - {new}
            self.settings.staff_chat_id = new
            log.warning("staff chat %s was upgraded to supergroup %s; staff alerts go there "
                        "now", old, new)

    async def refused(self, chat_id: int, status: str = "403") -> None:
        """A 403 for the staff chat (the bot is not, or no longer, in it), or a 400 of
        :data:`UNWRITABLE` (a wrong id, a group where the bot may not write)."""
        if self.removed is not None:
            return
        self.removed = {"chat_id": chat_id, "status": status}
        async with self.db.tx() as s:
            stored = await read(s)
            if stored.removed is None:
                await save_removed(s, chat_id, status, datetime.now(UTC))
        log.error("Telegram refuses to deliver to the staff group: %s",
                  removed_reason(self.removed))

    async def delivered(self) -> None:
        """A send to the staff chat went through: the bot is in it."""
        if self.removed is None:
            return
        self.removed = None
        async with self.db.tx() as s:
            await clear_removed(s)
        log.warning("the bot is back in the staff group (chat %s)", self.chat_id)

    async def problem(self) -> str | None:
        """Why staff alerts cannot reach the staff chat, read from the database."""
        if self.chat_id is None:
            return None
        async with self.db.read() as s:
            stored = await read(s)
        removed = stored.removed
        if removed is None or not (self.is_staff(removed.get("chat_id"))
                                   or removed.get("chat_id") == self.configured):
            return None
        return removed_reason(removed)
