"""Plain-data events and actions shared by the edge and the domain.

The Telegram edge (``bot/``) turns every update into an :class:`Inbound` and every
:class:`Action` into a Bot API call. ``flows/`` and ``handoff/`` only ever see these
dataclasses, so they are tested with plain data and a second channel (web chat, SMS)
would be one more adapter, not a rewrite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

InboundKind = Literal[
    "text",  # a plain text message (or a caption-less message with text)
    "command",  # a message whose first entity is a bot_command at offset 0
    "callback",  # a button press (callback_query)
    "media",  # photo, document, voice, sticker, video, ... (see ``media``)
    "edited",  # an edited message: never re-processed as new input
    "group",  # anything from a group, supergroup or channel
    "member",  # the bot was added to / removed from a chat, or blocked
    "internal",  # a job the line scheduled for itself (check-in, timeout, ...)
    "unsupported",  # anything else the edge could not classify
]

MediaKind = Literal[
    "photo",
    "document",
    "voice",
    "audio",
    "video",
    "video_note",
    "animation",
    "sticker",
    "contact",
    "location",
    "venue",
    "poll",
    "dice",
    "other",
]

# Media a specialist relay may copy (the rest get a kind "I can only read text" answer).
RELAYABLE_MEDIA: frozenset[str] = frozenset(
    {"photo", "document", "voice", "audio", "video", "video_note", "animation", "sticker"}
)


@dataclass(frozen=True, slots=True)
class Inbound:
    """One thing that arrived for the line, already stripped of names and usernames."""

    kind: InboundKind
    chat_id: int
    user_id: int | None = None
    chat_type: str = "private"
    message_id: int | None = None
    text: str | None = None  # message text or media caption
    command: str | None = None  # lower-case, without "/" and "@botname"
    args: str = ""
    callback_id: str | None = None
    callback_data: str | None = None
    media: MediaKind | None = None
    language_code: str | None = None  # Telegram's hint; only used for a first guess
    reply_to_message_id: int | None = None
    forwarded: bool = False
    date: datetime | None = None
    internal: dict[str, Any] = field(default_factory=dict)  # payload of "internal" jobs
    # A group upgraded to a supergroup: the service message in the old group names the
    # new id (``migrate_to``), the one in the new supergroup the old id (``migrate_from``).
    migrate_to_chat_id: int | None = None
    migrate_from_chat_id: int | None = None
    # A shared location's point ``(latitude, longitude)``: only the parent flow reads it,
    # to find the nearest ZIP when it asked where they are; it is never stored.
    location: tuple[float, float] | None = None
    # A live location (``live_period``): its updates arrive as edits, never answered.
    live: bool = False
    # Telegram sends an album as one message per item, sharing this id.
    media_group_id: str | None = None


@dataclass(frozen=True, slots=True)
class Button:
    """An inline keyboard button. ``data`` is already encoded by the callback codec."""

    label: str
    data: str


@dataclass(frozen=True, slots=True)
class SendText:
    """Send ``text`` to ``chat_id``. ``meta`` travels with the outbox row to the sender
    (e.g. which conversation a relayed message belongs to) and never reaches Telegram."""

    chat_id: int
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    reply_to_message_id: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CopyMessage:
    """Copy a message (text or media) between chats without revealing its author."""

    chat_id: int
    from_chat_id: int
    message_id: int
    reply_to_message_id: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CopyMessages:
    """Copy several messages at once (an album stays one album on the other side).

    ``message_ids`` in increasing order, as the Bot API requires."""

    chat_id: int
    from_chat_id: int
    message_ids: tuple[int, ...]
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AnswerCallback:
    """Stop the spinner on a pressed button, optionally with a short toast."""

    callback_id: str
    text: str | None = None


@dataclass(frozen=True, slots=True)
class EditText:
    """Replace the text (and buttons) of a message the bot sent earlier."""

    chat_id: int
    message_id: int
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class DeleteMessage:
    """Delete a message the bot sent (used by /forget; Telegram allows it for 48 h)."""

    chat_id: int
    message_id: int


@dataclass(frozen=True, slots=True)
class LeaveChat:
    """Leave a group the bot was added to."""

    chat_id: int


Action = (SendText | CopyMessage | CopyMessages | AnswerCallback | EditText | DeleteMessage
          | LeaveChat)


def chat_of(action: Action) -> int | None:
    """The chat an action goes to, for per-chat ordering and rate limits."""
    if isinstance(action, AnswerCallback):
        return None
    return action.chat_id
