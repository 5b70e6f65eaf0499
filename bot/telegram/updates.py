"""Raw Bot API updates -> plain :class:`~flows.events.Inbound` events.

Works on the JSON dicts Telegram sends (as stored in the inbox), so parsing is the same
for polling, webhooks and replays after a crash. Every function here is total: any dict,
however odd, yields an event (possibly ``unsupported``), never an exception.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from flows.events import Inbound, MediaKind

# Personal details Telegram includes that the line never needs: dropped on intake.
_PERSONAL_KEYS = frozenset(
    {"first_name", "last_name", "username", "phone_number", "vcard", "bio", "active_usernames"}
)
_MEDIA_KEYS: tuple[tuple[str, MediaKind], ...] = (
    ("photo", "photo"),
    ("document", "document"),
    ("voice", "voice"),
    ("audio", "audio"),
    ("video", "video"),
    ("video_note", "video_note"),
    ("animation", "animation"),
    ("sticker", "sticker"),
    ("contact", "contact"),
    ("venue", "venue"),
    ("location", "location"),
    ("poll", "poll"),
    ("dice", "dice"),
)
_MESSAGE_KEYS = ("message", "edited_message", "channel_post", "edited_channel_post")

# Telegram's identifiers have at most 52 significant bits ("a 64-bit integer or a
# double-precision float is safe"): anything outside is not from Telegram, and would
# overflow a 64-bit column on the way in.
ID_LIMIT = 2**52
MAX_DEPTH = 64  # a real update nests a dozen levels at most (replies of replies, markup)
# Keys whose value is always a User or a Chat, so always carries an integer ``id``.
_ID_OBJECT_KEYS = frozenset({"chat", "from", "sender_chat", "user", "sender_business_bot"})
_ID_KEYS = frozenset({"message_id", "update_id"})


def _in_range(v: Any, *, low: int = -ID_LIMIT) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and low <= v < ID_LIMIT


def _storable(text: str) -> bool:
    """Text every database can keep: no NUL (PostgreSQL's JSON refuses it) and no lone
    surrogate (not UTF-8 at all). Telegram sends neither."""
    if text.isascii():
        return "\x00" not in text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def check_update(update: Any) -> str | None:
    """Why ``update`` is not an update Telegram could have sent, or ``None`` when it could be.

    Checks the shape the line relies on: a JSON object with an integer ``update_id`` in
    Telegram's range (a boolean is not an integer here), every ``message_id`` and every
    user's and chat's ``id`` an integer in range, at most :data:`MAX_DEPTH` levels deep,
    no string with a NUL or a lone surrogate (which PostgreSQL could not store).
    Never raises, whatever it is given (iterative, so depth cannot exhaust the stack).
    """
    if not isinstance(update, dict):
        return "not a JSON object"
    if not _in_range(update.get("update_id"), low=0):
        return "update_id is not an integer in Telegram's range"
    stack: list[tuple[Any, int]] = [(update, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"nested deeper than {MAX_DEPTH} levels"
        if isinstance(value, str):
            if not _storable(value):
                return "a string Telegram would not send (NUL or a lone surrogate)"
        elif isinstance(value, float) and not math.isfinite(value):
            return "a number JSON does not have (NaN or infinity)"
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
        elif isinstance(value, dict):
            for key, v in value.items():
                if not isinstance(key, str) or not _storable(key):
                    return "a key Telegram would not send (NUL or a lone surrogate)"
                if key in _ID_KEYS and not _in_range(v, low=0):
                    return f"{key} is not an integer in Telegram's range"
                if key in _ID_OBJECT_KEYS and not (isinstance(v, dict)
                                                   and _in_range(v.get("id"))):
                    return f"{key}.id is not an integer in Telegram's range"
                stack.append((v, depth + 1))
    return None


def sanitize(update: Any) -> Any:
    """A copy of ``update`` without names, usernames or phone numbers, at any depth."""
    if isinstance(update, dict):
        return {k: sanitize(v) for k, v in update.items() if k not in _PERSONAL_KEYS}
    if isinstance(update, list):
        return [sanitize(v) for v in update]
    return update


def _int(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _dict(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def chat_id_of(update: dict[str, Any]) -> int:
    """The chat an update belongs to (for per-chat ordering); 0 when there is none."""
    for key in _MESSAGE_KEYS:
        msg = _dict(update.get(key))
        cid = _int(_dict(msg.get("chat")).get("id"))
        if cid is not None:
            return cid
    cq = _dict(update.get("callback_query"))
    if cq:
        cid = _int(_dict(_dict(cq.get("message")).get("chat")).get("id"))
        if cid is not None:
            return cid
        uid = _int(_dict(cq.get("from")).get("id"))
        if uid is not None:
            return uid
    for key in ("my_chat_member", "chat_member"):
        cid = _int(_dict(_dict(update.get(key)).get("chat")).get("id"))
        if cid is not None:
            return cid
    return 0


def _date(v: Any) -> datetime | None:
    if isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**33:
        return datetime.fromtimestamp(v, UTC)
    return None


def _command(text: str, entities: Any) -> tuple[str, str] | None:
    """``("start", "args")`` when the text begins with a bot_command entity."""
    if not isinstance(entities, list):
        return None
    for ent in entities:
        e = _dict(ent)
        if e.get("type") == "bot_command" and e.get("offset") == 0:
            length = _int(e.get("length")) or 0
            words = text.split(maxsplit=1)
            word = text[:length] if 0 < length <= len(text) else (words[0] if words else "")
            name = word.lstrip("/").split("@", 1)[0].lower()
            if not name:
                return None
            return name, text[len(word) :].strip()
    return None


def parse_update(update: Any) -> Inbound:
    """Classify one update. Never raises."""
    if not isinstance(update, dict):
        return Inbound(kind="unsupported", chat_id=0)

    if "callback_query" in update:
        cq = _dict(update["callback_query"])
        msg = _dict(cq.get("message"))
        user = _dict(cq.get("from"))
        chat = _dict(msg.get("chat"))
        return Inbound(
            kind="callback",
            chat_id=_int(chat.get("id")) or _int(user.get("id")) or 0,
            user_id=_int(user.get("id")),
            chat_type=str(chat.get("type") or "private"),
            message_id=_int(msg.get("message_id")),
            callback_id=str(cq.get("id")) if cq.get("id") is not None else None,
            callback_data=cq.get("data") if isinstance(cq.get("data"), str) else None,
            language_code=_str(user.get("language_code")),
        )

    for key in ("my_chat_member", "chat_member"):
        if key in update:
            m = _dict(update[key])
            chat = _dict(m.get("chat"))
            new = _dict(m.get("new_chat_member"))
            return Inbound(
                kind="member",
                chat_id=_int(chat.get("id")) or 0,
                user_id=_int(_dict(m.get("from")).get("id")),
                chat_type=str(chat.get("type") or "private"),
                text=_str(new.get("status")),  # "kicked" when a parent blocked the bot
            )

    for key in _MESSAGE_KEYS:
        if key in update:
            return _parse_message(key, _dict(update[key]))

    return Inbound(kind="unsupported", chat_id=chat_id_of(update))


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) else None


def _parse_message(key: str, msg: dict[str, Any]) -> Inbound:
    chat = _dict(msg.get("chat"))
    user = _dict(msg.get("from"))
    chat_id = _int(chat.get("id")) or 0
    chat_type = str(chat.get("type") or "private")
    base: dict[str, Any] = {
        "chat_id": chat_id,
        "user_id": _int(user.get("id")),
        "chat_type": chat_type,
        "message_id": _int(msg.get("message_id")),
        "language_code": _str(user.get("language_code")),
        "reply_to_message_id": _int(_dict(msg.get("reply_to_message")).get("message_id")),
        "forwarded": any(k in msg for k in ("forward_origin", "forward_from", "forward_date")),
        "date": _date(msg.get("date")),
    }
    if key in ("channel_post", "edited_channel_post") or chat_type != "private":
        return Inbound(kind="group", text=_str(msg.get("text")),
                       migrate_to_chat_id=_int(msg.get("migrate_to_chat_id")),
                       migrate_from_chat_id=_int(msg.get("migrate_from_chat_id")), **base)
    base["media_group_id"] = _str(msg.get("media_group_id"))
    if key == "edited_message":
        # A live location's new point arrives as an edit of the location message (every
        # few seconds while it is shared): ``media`` says so, and it is never answered.
        return Inbound(kind="edited", text=_str(msg.get("text") or msg.get("caption")),
                       media=_media_kind(msg), live="location" in msg, **base)

    text = _str(msg.get("text"))
    if text is not None:
        cmd = _command(text, msg.get("entities"))
        if cmd is not None:
            return Inbound(kind="command", text=text, command=cmd[0], args=cmd[1], **base)
        return Inbound(kind="text", text=text, **base)
    kind = _media_kind(msg)
    if kind is not None:
        location = _point(msg.get("location")) if kind == "location" else None
        return Inbound(kind="media", media=kind, text=_str(msg.get("caption")),
                       location=location,
                       live=location is not None and "live_period" in _dict(msg["location"]),
                       **base)
    return Inbound(kind="unsupported", **base)


def _media_kind(msg: dict[str, Any]) -> MediaKind | None:
    for mkey, kind in _MEDIA_KEYS:
        if mkey in msg:
            return kind
    return None


def _point(v: Any) -> tuple[float, float] | None:
    """``(latitude, longitude)`` of a Location, when both are finite numbers in range."""
    loc = _dict(v)
    lat, lon = loc.get("latitude"), loc.get("longitude")
    if not (isinstance(lat, int | float) and isinstance(lon, int | float)) or isinstance(
            lat, bool) or isinstance(lon, bool):
        return None
    flat, flon = float(lat), float(lon)
    if not (math.isfinite(flat) and math.isfinite(flon)):
        return None
    if not (-90 <= flat <= 90 and -180 <= flon <= 180):
        return None
    return flat, flon
