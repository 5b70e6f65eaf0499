"""Outbox rows -> Bot API calls through python-telegram-bot, and what each failure means.

The sender must know, for every failure, whether to try again (network, 5xx, 429),
whether the parent has gone (403), or whether the request itself can never succeed
(400). This module is the one place that maps python-telegram-bot's exceptions to those
three answers.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Literal

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters
from telegram.error import (
    BadRequest,
    ChatMigrated,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import Application, ApplicationBuilder

from bot.telegram.aiohttp_request import AiohttpRequest
from bot.telegram.health import ApiHealth

Verdict = Literal["sent", "retry", "gone", "dead", "migrated", "late"]

# Telegram's answers when a call's window has passed; nothing can make the call succeed, and
# nothing is wrong with the line. telegram-bot-api/Client.cpp fail_query_with_error:
# QUERY_ID_INVALID -> "query is too old and response timeout expired or query ID is
# invalid" (a press answered after about 15 s); TDLib delete_messages -> "message can't be
# deleted for everyone" (private chats and groups) or "message can't be deleted"
# (supergroups, and MESSAGE_DELETE_FORBIDDEN) for a message over 48 hours old.
# python-telegram-bot capitalises the description; it is matched case-insensitively.
_TOO_LATE = {
    "answerCallbackQuery": ("query is too old",),
    "deleteMessage": ("message can't be deleted",),
}


@dataclass(frozen=True, slots=True)
class Outcome:
    verdict: Verdict
    message_id: int | None = None
    retry_after: float | None = None
    error: str = ""
    # "migrated": the group became this supergroup (400 "group chat was upgraded to a
    # supergroup chat" with parameters.migrate_to_chat_id); send there instead.
    migrate_to: int | None = None
    # "late" is a 400 that only says the call's time window passed (a button answered too
    # late, a message too old to delete): as final as "dead", but expected, not a fault.


def build_application(token: str, base_url: str, *, pool: int = 64,  # type: ignore[type-arg,unused-ignore]
                      health: ApiHealth | None = None) -> Application:
    """A python-telegram-bot Application without its Updater.

    We keep PTB as the Bot API client and lifecycle, but updates reach us through our
    own durable inbox (polling or webhook) instead of PTB's early-acknowledging Updater.
    """
    # We call ``do_api_request`` for raw JSON on purpose (getUpdates, sendMessage); PTB's
    # nudge towards its typed methods is noise here. One filter, set once: toggling it
    # around each call would race between concurrent sends.
    warnings.filterwarnings("ignore", message=r"Please use 'Bot\.(getUpdates|sendMessage)'")
    observe = health.observe if health is not None else None
    request = AiohttpRequest(connection_pool_size=pool, read_timeout=15, connect_timeout=5,
                             write_timeout=15, pool_timeout=5, on_answer=observe)
    polling = AiohttpRequest(connection_pool_size=2, read_timeout=40, connect_timeout=5,
                             on_answer=observe)
    return (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url)
        .request(request)
        .get_updates_request(polling)
        .updater(None)
        .build()
    )


def _markup(rows: Any) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b["t"], callback_data=b["d"]) for b in row] for row in rows]
    )


def _reply(params: dict[str, Any]) -> ReplyParameters | None:
    rid = params.get("reply_to")
    if not rid:
        return None
    return ReplyParameters(message_id=int(rid), allow_sending_without_reply=True)


async def call(bot: Bot, chat_id: int | None, method: str, params: dict[str, Any]) -> Outcome:
    """Perform one outbox row. Never raises for Telegram or network errors."""
    try:
        if method == "sendMessage":
            # The line's most frequent call, sent as plain JSON: we need the new message's
            # id, not python-telegram-bot's parse of the whole Message (a third of the
            # call's CPU). Errors come back as the same exceptions.
            payload: dict[str, Any] = {"chat_id": chat_id, "text": params["text"]}
            if params.get("buttons"):
                payload["reply_markup"] = {"inline_keyboard": [
                    [{"text": b["t"], "callback_data": b["d"]} for b in row]
                    for row in params["buttons"]]}
            if params.get("reply_to"):
                payload["reply_parameters"] = {"message_id": int(params["reply_to"]),
                                               "allow_sending_without_reply": True}
            result = await bot.do_api_request("sendMessage", api_kwargs=payload)
            mid = result.get("message_id") if isinstance(result, dict) else None
            return Outcome("sent", int(mid) if isinstance(mid, int) else None)
        if method == "copyMessage":
            mid = await bot.copy_message(
                chat_id=chat_id,  # type: ignore[arg-type]
                from_chat_id=params["from_chat_id"],
                message_id=params["message_id"],
                reply_parameters=_reply(params),
            )
            return Outcome("sent", mid.message_id)
        if method == "copyMessages":
            # An album: copied together, it stays one album (copyMessage would split it).
            # The first copy's id stands for the album (relay routing, replies).
            ids = await bot.copy_messages(
                chat_id=chat_id,  # type: ignore[arg-type]
                from_chat_id=params["from_chat_id"],
                message_ids=params["message_ids"],
            )
            return Outcome("sent", ids[0].message_id if ids else None)
        if method == "answerCallbackQuery":
            await bot.answer_callback_query(params["callback_query_id"], text=params.get("text"))
            return Outcome("sent")
        if method == "editMessageText":
            await bot.edit_message_text(
                params["text"], chat_id=chat_id, message_id=params["message_id"],
                reply_markup=_markup(params.get("buttons")),
            )
            return Outcome("sent")
        if method == "deleteMessage":
            await bot.delete_message(chat_id, params["message_id"])  # type: ignore[arg-type]
            return Outcome("sent")
        if method == "leaveChat":
            await bot.leave_chat(chat_id)  # type: ignore[arg-type]
            return Outcome("sent")
        return Outcome("dead", error=f"unknown method {method}")
    except TelegramError as exc:
        return classify(exc, method)


# What is already true when Telegram refuses the call (lower-cased descriptions, as PTB
# gives them without "Bad Request: "): an edit that changes nothing (sent again after a
# crash between Telegram's OK and our commit, or a message that already reads so), and a
# message to delete that is gone already (the person deleted it, or a retried delete).
# telegram-bot-api/Client.cpp: fail_query_with_error (MESSAGE_NOT_MODIFIED) and
# check_message(..., "message to delete", ...).
_ALREADY_SO = ("message is not modified", "message to delete not found")


def classify(exc: TelegramError, method: str = "") -> Outcome:
    """What a refused or failed Bot API call (``method``) means for the outbox row.

    PTB picks the exception from the HTTP status alone (403 Forbidden, 400 BadRequest,
    400 with ``migrate_to_chat_id`` ChatMigrated, 429 RetryAfter, 401 InvalidToken, 5xx
    and no answer NetworkError); the description matters only where the request's goal
    already holds (``_ALREADY_SO``). ``tests/data/bot_api_errors.yaml`` lists the real
    descriptions this is checked against.
    """
    if isinstance(exc, RetryAfter):
        return Outcome("retry", retry_after=retry_after_seconds(exc), error="429")
    if isinstance(exc, Forbidden):
        # Blocked, deactivated, never started, kicked or not a member: nobody to send to.
        return Outcome("gone", error="403")
    if isinstance(exc, ChatMigrated):
        # telegram-bot-api/Client.cpp check_chat_access: 400 "Bad Request: group chat was
        # upgraded to a supergroup chat" with parameters.migrate_to_chat_id
        return Outcome("migrated", error="400 group chat was upgraded to a supergroup chat",
                       migrate_to=int(exc.new_chat_id))
    if isinstance(exc, BadRequest):
        if str(exc).lower().startswith(_ALREADY_SO):
            return Outcome("sent", error=f"400 {_safe(exc)}")
        if too_late(method, str(exc)):
            return Outcome("late", error=f"400 {_safe(exc)}")
        # The request itself can never succeed (too long, unparsable, a message that can no
        # longer be edited): trying again would fail the same way.
        return Outcome("dead", error=f"400 {_safe(exc)}")
    if isinstance(exc, (InvalidToken, EndPointNotFound)):
        # 401: the token was revoked (``do_api_request`` reports it as EndPointNotFound;
        # sendMessage exists, so for us it can only be the token). ``bot.telegram.health``
        # says what to do; the row waits and tries again.
        return Outcome("retry", retry_after=30, error="invalid token")
    if isinstance(exc, (TimedOut, NetworkError)):
        return Outcome("retry", error=f"network {_safe(exc)}")
    return Outcome("retry", error=f"telegram {_safe(exc)}")


def too_late(method: str, description: str) -> bool:
    """Whether Telegram refused ``method`` only because its time window passed."""
    lowered = description.lower()
    return any(phrase in lowered for phrase in _TOO_LATE.get(method, ()))


def _safe(exc: Exception) -> str:
    """Telegram's error description, cut short: it describes the request, not the content."""
    return type(exc).__name__ + ": " + str(exc)[:120]


def retry_after_seconds(exc: RetryAfter) -> float:
    """Telegram's ``retry_after`` in seconds (PTB gives an int now, a timedelta later)."""
    ra = exc.retry_after
    return ra.total_seconds() if hasattr(ra, "total_seconds") else float(ra)
