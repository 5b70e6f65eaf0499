"""Plain actions into outbox rows of Bot API calls (``bot/telegram/client.py`` makes them).

The outbox (``core/storage/outbox.py``) keeps rows in order without knowing what they
mean; here an action becomes a method name and its parameters, long texts several rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.storage.outbox import Outgoing, add_rows
from flows.events import (
    Action,
    AnswerCallback,
    CopyMessage,
    CopyMessages,
    DeleteMessage,
    EditText,
    LeaveChat,
    SendText,
)

TELEGRAM_TEXT_LIMIT = 4096
TELEGRAM_TOAST_LIMIT = 200  # answerCallbackQuery's text: "0-200 characters" (Bot API docs)


def split_text(text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> list[str]:
    """Split long text at paragraph, then line, then word boundaries."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = -1
        for sep in ("\n\n", "\n", " "):
            cut = rest.rfind(sep, 0, limit)
            if cut > limit // 2:
                break
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def _buttons(rows: Iterable[Iterable[Any]]) -> list[list[dict[str, str]]]:
    return [[{"t": b.label, "d": b.data} for b in row] for row in rows]


def serialize(action: Action) -> list[Outgoing]:
    """``(chat_id, method, params, meta)`` rows for one action (long texts become several)."""
    if isinstance(action, SendText):
        chunks = split_text(action.text)
        out: list[Outgoing] = []
        for i, chunk in enumerate(chunks):
            last = i == len(chunks) - 1
            params: dict[str, Any] = {"text": chunk}
            if last and action.buttons:
                params["buttons"] = _buttons(action.buttons)
            if i == 0 and action.reply_to_message_id:
                params["reply_to"] = action.reply_to_message_id
            out.append((action.chat_id, "sendMessage", params, dict(action.meta) if last else {}))
        return out
    if isinstance(action, CopyMessage):
        params = {"from_chat_id": action.from_chat_id, "message_id": action.message_id}
        if action.reply_to_message_id:
            params["reply_to"] = action.reply_to_message_id
        return [(action.chat_id, "copyMessage", params, dict(action.meta))]
    if isinstance(action, CopyMessages):
        return [(action.chat_id, "copyMessages", {"from_chat_id": action.from_chat_id,
                                                  "message_ids": sorted(action.message_ids)},
                 dict(action.meta))]
    if isinstance(action, AnswerCallback):
        # A toast over 200 characters is refused outright (MESSAGE_TOO_LONG), which would
        # leave the button spinning: a long content text is cut to fit instead.
        text = action.text[:TELEGRAM_TOAST_LIMIT] if action.text else action.text
        return [(None, "answerCallbackQuery", {"callback_query_id": action.callback_id,
                                                "text": text}, {})]
    if isinstance(action, EditText):
        params = {"message_id": action.message_id, "text": action.text[:TELEGRAM_TEXT_LIMIT]}
        if action.buttons:
            params["buttons"] = _buttons(action.buttons)
        return [(action.chat_id, "editMessageText", params, {})]
    if isinstance(action, DeleteMessage):
        return [(action.chat_id, "deleteMessage", {"message_id": action.message_id}, {})]
    if isinstance(action, LeaveChat):
        return [(action.chat_id, "leaveChat", {}, {})]
    raise TypeError(f"unknown action {type(action).__name__}")


async def add_actions(session: AsyncSession, actions: Iterable[Action], now: datetime) -> int:
    """Queue ``actions`` in the caller's transaction, in order, with one multi-row INSERT;
    returns the number of rows."""
    return await add_rows(session, [row for action in actions for row in serialize(action)],
                          now)
