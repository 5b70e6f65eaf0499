"""The fake's world: users, chats, messages and the update queue.

Everything a test or the demo can observe lives here as plain data, so the
HTTP layer (``server.py``) and the Bot API methods (``methods.py``) stay thin.
The objects handed to the bot are built the way Telegram builds them (integer
``date``, ``from`` with ``language_code``, private chat id equal to the user
id, one message-id sequence per chat shared by both sides), because bots break
on exactly those details.

Not thread-safe: everything runs on the event loop that started the server.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from dataclasses import dataclass, field
from typing import Any

from fake_telegram.errors import ApiError, bad_request, forbidden

#: Update types Telegram sends when ``allowed_updates`` is unset or empty.
DEFAULT_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)

MEDIA_KINDS = (
    "photo",
    "document",
    "voice",
    "sticker",
    "video_note",
    "contact",
    "location",
    "poll",
    "video",
    "audio",
)
_CAPTIONED = frozenset({"photo", "document", "voice", "video", "audio"})
_COMMAND = re.compile(r"^/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram uses for entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def now_ts() -> float:
    """Wall-clock time. The fake's own code reads :meth:`World.now` instead (Telegram's
    time, which a test can move forward); this stays for code that wants the wall."""
    return time.time()


#: Telegram keeps an update nobody fetched for at most a day. Bot API docs, "Getting
#: updates": incoming updates are stored on the server until the bot receives them, "but
#: they will not be kept longer than 24 hours". telegram-bot-api/Client.cpp queues a
#: message update with ``left_time = message_date + 86400 - now`` (the edit date for an
#: edit; add_new_message) and my_chat_member with ``update->date_ + 86400 - now``
#: (add_update_chat_member); the queue (td::TQueue) drops an event once it expires.
UPDATE_LIFETIME = 86400.0
#: A callback_query update lives much shorter: Client.cpp queues it with a timeout of 150
#: seconds (process_new_callback_query_queue: ``add_update(UpdateType::CallbackQuery, ...,
#: 150, ...)``). A press the bot has not fetched within 150 s is gone.
CALLBACK_UPDATE_LIFETIME = 150.0


class Clock:
    """Telegram's time as the fake tells it: the wall clock plus what a test advanced.

    Real time by default (the demo needs nothing else); ``advance`` jumps it forward, so a
    test can make a message 25 hours old or a button press a minute old without sleeping.
    It never goes back: Telegram's dates only grow.
    """

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        """Seconds since the epoch on Telegram's clock."""
        return time.time() + self.offset

    def advance(self, seconds: float) -> float:
        """Move the clock forward by ``seconds``; returns the new time."""
        if not seconds >= 0:  # also refuses NaN
            raise ValueError("the clock only moves forward")
        self.offset += float(seconds)
        return self.now()


@dataclass
class UserRecord:
    """A Telegram user who may talk to the bot."""

    id: int
    first_name: str
    username: str | None = None
    language_code: str | None = "en"
    last_name: str | None = None
    blocked_bot: bool = False
    #: False until the user has written to the bot: Telegram refuses the first message.
    started: bool = True
    #: The account was deleted: every send answers 403 "user is deactivated".
    deactivated: bool = False

    def as_user(self) -> dict[str, Any]:
        """The ``User`` object as it appears in ``from``."""
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user


@dataclass
class ChatRecord:
    """A chat; private chats mirror their user, groups and channels have titles."""

    id: int
    type: str
    title: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    bot_member: bool = True
    #: The bot was removed by an admin (banned), not just absent: a different 403.
    bot_kicked: bool = False
    #: A basic group upgraded to a supergroup: sends answer 400 with this id.
    migrated_to: int | None = None
    #: An admin turned off "send messages" for members (the bot among them).
    members_can_send: bool = True

    def as_chat(self) -> dict[str, Any]:
        """The ``Chat`` object embedded in messages."""
        chat: dict[str, Any] = {"id": self.id, "type": self.type}
        for key in ("title", "first_name", "last_name", "username"):
            value = getattr(self, key)
            if value:
                chat[key] = value
        return chat


@dataclass
class StoredMessage:
    """One message in a chat, from either side, in its current state."""

    chat: ChatRecord
    message_id: int
    date: int
    ts: float
    sender: dict[str, Any] | None
    from_bot: bool
    kind: str
    text: str | None = None
    caption: str | None = None
    content: dict[str, Any] = field(default_factory=dict)
    entities: list[dict[str, Any]] | None = None
    reply_markup: dict[str, Any] | None = None
    reply_to: StoredMessage | None = None
    forward_origin: dict[str, Any] | None = None
    parse_mode: str | None = None
    original_text: str | None = None
    edits: list[str] = field(default_factory=list)
    edit_date: int | None = None
    deleted: bool = False
    copied_from: tuple[int, int] | None = None
    method: str | None = None
    #: The album this message belongs to (Telegram: a string of digits, shared by its items).
    media_group_id: str | None = None
    #: Position among the bot's messages to this chat (``messages_to`` index).
    index: int = -1

    def to_api(self, *, nested: bool = False) -> dict[str, Any]:
        """The Bot API ``Message`` object; ``nested`` omits the reply chain like Telegram."""
        msg: dict[str, Any] = {
            "message_id": self.message_id,
            "date": self.date,
            "chat": self.chat.as_chat(),
        }
        if self.sender is not None:
            msg["from"] = self.sender
        if self.chat.type == "channel":
            msg["sender_chat"] = self.chat.as_chat()
        if self.kind == "text":
            msg["text"] = self.text
            if self.entities:
                msg["entities"] = self.entities
        else:
            msg.update(self.content)
            if self.caption is not None:
                msg["caption"] = self.caption
        if self.media_group_id is not None:
            msg["media_group_id"] = self.media_group_id
        if self.forward_origin is not None:
            msg["forward_origin"] = self.forward_origin
        if self.edit_date is not None:
            msg["edit_date"] = self.edit_date
        if self.reply_markup and self.reply_markup.get("inline_keyboard"):
            msg["reply_markup"] = self.reply_markup
        if self.reply_to is not None and not nested:
            msg["reply_to_message"] = self.reply_to.to_api(nested=True)
        return msg

    def buttons(self) -> list[list[dict[str, Any]]]:
        """Inline keyboard rows as ``{text, callback_data, url}`` dicts (absent keys omitted)."""
        if not self.reply_markup:
            return []
        rows = self.reply_markup.get("inline_keyboard") or []
        return [
            [{k: b[k] for k in ("text", "callback_data", "url") if k in b} for b in row]
            for row in rows
        ]

    def summary(self) -> dict[str, Any]:
        """The flat view tests assert on (see ``FakeTelegram.messages_to``)."""
        return {
            "index": self.index,
            "chat_id": self.chat.id,
            "message_id": self.message_id,
            "kind": self.kind,
            "text": self.text if self.kind == "text" else self.caption,
            "original_text": self.original_text,
            "edited": bool(self.edits) or self.edit_date is not None,
            "edits": list(self.edits),
            "buttons": self.buttons(),
            "reply_to": self.reply_to.message_id if self.reply_to else None,
            "deleted": self.deleted,
            "parse_mode": self.parse_mode,
            "copied_from": list(self.copied_from) if self.copied_from else None,
            "method": self.method,
            "media_group_id": self.media_group_id,
            "location": self.content.get("location"),
            "from_bot": self.from_bot,
            "date": self.date,
            "ts": self.ts,
        }


@dataclass
class CallbackRecord:
    """A button press sent to the bot, and how (whether) it was answered."""

    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    ts: float
    answered: bool = False
    answer: dict[str, Any] | None = None


@dataclass
class WebhookState:
    """What setWebhook recorded plus delivery health, for getWebhookInfo."""

    url: str = ""
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class LoggedRequest:
    """One Bot API call as the fake saw it."""

    method: str
    chat_id: int | str | None
    status: int
    ts: float
    fault: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    # A refused call's answer exactly as sent ({"ok": false, "error_code", "description",
    # "parameters"}), so a test can compare Telegram's wording, not PTB's rewording of it.
    error: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form for the control API."""
        out: dict[str, Any] = {
            "method": self.method,
            "chat_id": self.chat_id,
            "status": self.status,
            "ts": self.ts,
            "fault": self.fault,
        }
        if self.error is not None:
            out["description"] = self.error.get("description")
        return out


class World:
    """All state of the fake Telegram, plus the user-side actions that create updates."""

    def __init__(self, *, bot_id: int, bot_username: str, bot_name: str) -> None:
        self.bot_user: dict[str, Any] = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
        }
        self._changed = asyncio.Event()
        self.reset()

    # -- lifecycle ---------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything except the bot's identity; wakes all waiters."""
        self.users: dict[int, UserRecord] = {}
        self.chats: dict[int, ChatRecord] = {}
        self.messages: dict[tuple[int, int], StoredMessage] = {}
        self.bot_messages: dict[int, list[StoredMessage]] = {}
        self.pending: list[dict[str, Any]] = []
        #: update_id -> when Telegram stops keeping it (``Clock`` seconds).
        self._expires: dict[int, float] = {}
        #: Updates dropped unfetched because they outlived their lifetime.
        self.expired_updates = 0
        #: Telegram's time for this world (``advance_clock``); real time after a reset.
        self.clock = Clock()
        self.raw_updates = 0
        self.filtered_updates = 0
        self.allowed_updates: list[str] | None = None
        self.webhook = WebhookState()
        #: When (on ``clock``) the next setWebhook with a URL is accepted: one a second.
        self.next_set_webhook_at = 0.0
        #: "local" (http and any port, like ``telegram-bot-api --local``, what tests use)
        #: or "official" (https on 443/80/88/8443 only, like api.telegram.org).
        self.webhook_rules = "local"
        self.callbacks: dict[str, CallbackRecord] = {}
        self.requests_log: list[LoggedRequest] = []
        self.events: list[dict[str, Any]] = []
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.chat_actions: list[tuple[int, str]] = []
        self._next_message_id: dict[int, int] = {}
        self._update_ids = itertools.count(1)
        self._callback_ids = itertools.count(4_000_000_000_000_000_001)
        self.notify()

    def now(self) -> float:
        """Telegram's time: every date, age and window in the fake reads this."""
        return self.clock.now()

    def advance_clock(self, seconds: float) -> float:
        """Move Telegram's time forward; updates that outlive their lifetime are dropped
        at once (as the real queue drops them), and every waiter re-checks."""
        now = self.clock.advance(seconds)
        self.expire()
        self.notify()
        return now

    def notify(self) -> None:
        """Wake everyone waiting for a change (long polls, wait_for_message, webhook)."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_changed(self, timeout: float) -> bool:
        """Sleep until the next ``notify`` or ``timeout``; True if something changed."""
        # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
        # races with the event being set, and a cancelled worker would then never stop.
        event = self._changed
        try:
            async with asyncio.timeout(timeout):
                await event.wait()
        except TimeoutError:
            return False
        return True

    def event(self, kind: str, **data: Any) -> None:
        """Append to the chronological event log the demo page follows."""
        self.events.append({"seq": len(self.events) + 1, "type": kind, "ts": self.now(), **data})
        self.notify()

    # -- users and chats ---------------------------------------------------------

    def create_user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        language_code: str | None = "en",
        username: str | None = None,
        last_name: str | None = None,
        started: bool = True,
    ) -> UserRecord:
        """Create (or update) a user and their private chat with the bot."""
        if user_id <= 0:
            raise ValueError("user ids are positive; groups use negative ids")
        user = UserRecord(
            id=user_id,
            first_name=first_name or f"User{user_id}",
            username=username if username is not None else f"user{user_id}",
            language_code=language_code,
            last_name=last_name,
            started=started,
        )
        self.users[user_id] = user
        self.chats[user_id] = ChatRecord(
            id=user_id,
            type="private",
            first_name=user.first_name,
            last_name=user.last_name,
            username=user.username,
        )
        return user

    def user(self, user_id: int) -> UserRecord:
        """The user, created with defaults on first mention (tests stay short)."""
        return self.users.get(user_id) or self.create_user(user_id)

    def group(self, chat_id: int, title: str | None = None) -> ChatRecord:
        """A group/supergroup (negative id), created on first mention."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        chat = self.chats.get(chat_id)
        if chat is None:
            kind = "supergroup" if chat_id <= -1_000_000_000_000 else "group"
            chat = ChatRecord(id=chat_id, type=kind, title=title or f"Group {chat_id}")
            self.chats[chat_id] = chat
        elif title:
            chat.title = title
        return chat

    def resolve_chat(self, chat_id: Any) -> ChatRecord:
        """Look up a chat by id or ``@username`` or raise 400 chat not found."""
        if isinstance(chat_id, str):
            if chat_id.startswith("@"):
                for chat in self.chats.values():
                    if chat.username and chat.username.lower() == chat_id[1:].lower():
                        return chat
                raise bad_request("chat not found")
            try:
                chat_id = int(chat_id)
            except ValueError:
                raise bad_request("chat not found") from None
        if not isinstance(chat_id, int) or chat_id not in self.chats:
            raise bad_request("chat not found")
        return self.chats[chat_id]

    def writable_chat(self, chat_id: Any) -> ChatRecord:
        """The chat the bot may post to, or the 403 Telegram would answer."""
        chat = self.resolve_chat(chat_id)
        if chat.type == "private":
            user = self.users[chat.id]
            if user.deactivated:
                # telegram-bot-api/Client.cpp, check_chat_access (UserInfo::Type::Deleted)
                raise ApiError(403, "Forbidden: user is deactivated")
            if user.blocked_bot:
                raise forbidden("bot was blocked by the user")
            if not user.started:
                raise forbidden("bot can't initiate conversation with a user")
        elif chat.migrated_to is not None:
            # telegram-bot-api/Client.cpp, check_chat_access (ChatInfo::Type::Group,
            # upgraded_to_supergroup_id): 400 with parameters.migrate_to_chat_id
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        elif chat.bot_kicked:
            # telegram-bot-api/Client.cpp, check_chat_access: "bot was kicked from the group
            # chat" (Group, kicked) / "... from the supergroup chat" (Supergroup, Banned)
            raise forbidden(f"bot was kicked from the {chat.type} chat")
        elif not chat.bot_member:
            # telegram-bot-api/Client.cpp, check_chat_access: "bot is not a member of the
            # group chat" (Group, left) / "... of the supergroup chat" (Supergroup)
            raise forbidden(f"bot is not a member of the {chat.type} chat")
        elif not chat.members_can_send:
            # TDLib MessageContent.cpp can_send_message_content (Text, !can_send_messages):
            # "Not enough rights to send text messages to the chat", first letter lowered
            # by telegram-bot-api/Client.cpp fail_query_with_error.
            raise bad_request("not enough rights to send text messages to the chat")
        return chat

    def message(self, chat_id: int, message_id: Any) -> StoredMessage | None:
        """A live (not deleted) message, or None."""
        try:
            key = (chat_id, int(message_id))
        except (TypeError, ValueError):
            return None
        msg = self.messages.get(key)
        return None if msg is None or msg.deleted else msg

    # -- messages ----------------------------------------------------------------

    def store(
        self,
        chat: ChatRecord,
        *,
        sender: dict[str, Any] | None,
        from_bot: bool,
        kind: str,
        text: str | None = None,
        **extra: Any,
    ) -> StoredMessage:
        """Store a new message with the chat's next message id and a timestamp."""
        message_id = self._next_message_id.get(chat.id, 0) + 1
        self._next_message_id[chat.id] = message_id
        ts = self.now()
        msg = StoredMessage(
            chat=chat,
            message_id=message_id,
            date=int(ts),
            ts=ts,
            sender=sender,
            from_bot=from_bot,
            kind=kind,
            text=text,
            original_text=text if kind == "text" else extra.get("caption"),
            **extra,
        )
        self.messages[(chat.id, message_id)] = msg
        if from_bot:
            sent = self.bot_messages.setdefault(chat.id, [])
            msg.index = len(sent)
            sent.append(msg)
        self.event(
            "bot_message" if from_bot else "user_message",
            chat_id=chat.id,
            message=msg.summary(),
        )
        return msg

    # -- updates -----------------------------------------------------------------

    def enqueue(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Queue an update unless ``allowed_updates`` filters it out (as Telegram does)."""
        allowed = self.allowed_updates
        accepted = frozenset(allowed) if allowed else DEFAULT_UPDATE_TYPES
        if kind not in accepted:
            self.filtered_updates += 1
            return None
        update_id = next(self._update_ids)
        update: dict[str, Any] = {"update_id": update_id, kind: payload}
        self.pending.append(update)
        self._expires[update_id] = self._expires_at(kind, payload)
        self.raw_updates += 1
        self.notify()
        return update

    def _expires_at(self, kind: str, payload: dict[str, Any]) -> float:
        """When Telegram stops keeping this update (see :data:`UPDATE_LIFETIME`)."""
        if kind == "callback_query":
            return self.now() + CALLBACK_UPDATE_LIFETIME
        date = payload.get("edit_date") or payload.get("date")
        since = float(date) if isinstance(date, int) else self.now()
        return since + UPDATE_LIFETIME

    def expire(self) -> int:
        """Drop pending updates Telegram would no longer keep; returns how many.

        getUpdates, webhook delivery and ``pending_update_count`` call this first, so an
        update that outlived its lifetime is never delivered: its ``update_id`` is simply
        skipped, which is all a bot can ever see of it."""
        now = self.now()
        kept = [u for u in self.pending if self._expires.get(u["update_id"], now + 1) > now]
        dropped = len(self.pending) - len(kept)
        if dropped:
            self.pending = kept
            self._expires = {u["update_id"]: self._expires[u["update_id"]] for u in kept
                             if u["update_id"] in self._expires}
            self.expired_updates += dropped
            self.event("updates_expired", count=dropped)
        return dropped

    def acknowledge(self, offset: int) -> None:
        """getUpdates offset semantics: drop updates below ``offset``; negative keeps the last N."""
        if offset < 0:
            self.pending = self.pending[offset:]
        else:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
        if len(self._expires) > 2 * len(self.pending) + 1024:  # forget what was confirmed
            self._expires = {u["update_id"]: self._expires[u["update_id"]]
                             for u in self.pending if u["update_id"] in self._expires}

    # -- user-side actions -------------------------------------------------------

    def user_sends(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        reply_to: int | None = None,
        forwarded: bool = False,
    ) -> StoredMessage:
        """A user writes text (in their private chat unless ``chat_id`` names a group)."""
        user = self.user(user_id)
        chat = self._user_chat(user, chat_id)
        entities = None
        match = _COMMAND.match(text)
        if match:
            entities = [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group())}]
        msg = self.store(
            chat,
            sender=user.as_user(),
            from_bot=False,
            kind="text",
            text=text,
            entities=entities,
            reply_to=self._reply_target(chat, reply_to),
            forward_origin=self._forward_origin() if forwarded else None,
        )
        self._deliver_user_message(user, chat, msg)
        return msg

    def user_sends_media(
        self,
        user_id: int,
        kind: str,
        caption: str | None = None,
        *,
        chat_id: int | None = None,
    ) -> StoredMessage:
        """A user sends a photo, document, voice note, sticker, contact, poll ..."""
        if kind not in MEDIA_KINDS:
            raise ValueError(f"unknown media kind {kind!r}; expected one of {MEDIA_KINDS}")
        if caption is not None and kind not in _CAPTIONED:
            raise ValueError(f"a {kind} has no caption")
        user = self.user(user_id)
        chat = self._user_chat(user, chat_id)
        msg = self.store(
            chat,
            sender=user.as_user(),
            from_bot=False,
            kind=kind,
            caption=caption,
            content=media_content(kind, user, self.next_file_tag()),
        )
        self._deliver_user_message(user, chat, msg)
        return msg

    def user_sends_location(
        self,
        user_id: int,
        latitude: float,
        longitude: float,
        *,
        live_period: int | None = None,
        chat_id: int | None = None,
    ) -> StoredMessage:
        """A user shares a location; with ``live_period`` (seconds, 60..86400, or
        0x7FFFFFFF for "until I stop") a live location, moved later by :meth:`user_moves`."""
        user = self.user(user_id)
        chat = self._user_chat(user, chat_id)
        location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
        if live_period is not None:
            location["live_period"] = live_period
        msg = self.store(chat, sender=user.as_user(), from_bot=False, kind="location",
                         content={"location": location})
        self._deliver_user_message(user, chat, msg)
        return msg

    def user_moves(
        self,
        user_id: int,
        message_id: int,
        latitude: float,
        longitude: float,
        *,
        chat_id: int | None = None,
    ) -> StoredMessage:
        """A live location's new point: Telegram edits the location message and sends an
        ``edited_message`` with the new coordinates (and ``live_period``, ``edit_date``)."""
        user = self.user(user_id)
        chat = self._user_chat(user, chat_id)
        msg = self.message(chat.id, message_id)
        if msg is None or msg.from_bot or (msg.sender or {}).get("id") != user_id:
            raise KeyError(f"user {user_id} has no message {message_id} in chat {chat.id}")
        location = dict(msg.content.get("location") or {})
        if msg.kind != "location" or "live_period" not in location:
            raise ValueError("only a live location moves")
        location.update(latitude=latitude, longitude=longitude)
        msg.content = {"location": location}
        msg.edit_date = int(self.now())
        self.event("user_edit", chat_id=chat.id, message=msg.summary())
        self.enqueue("edited_message", msg.to_api())
        return msg

    def user_sends_album(
        self,
        user_id: int,
        kinds: list[str],
        caption: str | None = None,
        *,
        chat_id: int | None = None,
    ) -> list[StoredMessage]:
        """A user sends 2-10 photos/videos (or documents, or audio) as one album.

        As on Telegram, the bot gets one ``message`` update per item, each with the same
        ``media_group_id``; a caption typed for the album rides on the first item."""
        if not 2 <= len(kinds) <= 10:
            raise ValueError("an album has 2 to 10 items")
        allowed = ({"photo", "video"}, {"document"}, {"audio"})
        if not any(set(kinds) <= group for group in allowed):
            raise ValueError("an album mixes only photos and videos, or holds one other kind")
        user = self.user(user_id)
        chat = self._user_chat(user, chat_id)
        group = self.next_media_group_id()
        items = []
        for i, kind in enumerate(kinds):
            msg = self.store(
                chat,
                sender=user.as_user(),
                from_bot=False,
                kind=kind,
                caption=caption if i == 0 else None,
                content=media_content(kind, user, self.next_file_tag()),
                media_group_id=group,
            )
            items.append(msg)
        for msg in items:
            self._deliver_user_message(user, chat, msg)
        return items

    def next_media_group_id(self) -> str:
        """A new album id, digits as Telegram's are."""
        return str(13000000000000000 + self.next_file_tag())

    def user_edits(
        self, user_id: int, message_id: int, new_text: str, *, chat_id: int | None = None
    ) -> StoredMessage:
        """A user edits one of their text messages: an ``edited_message`` update."""
        user = self.user(user_id)
        chat = self._user_chat(user, chat_id)
        msg = self.message(chat.id, message_id)
        if msg is None or msg.from_bot or (msg.sender or {}).get("id") != user_id:
            raise KeyError(f"user {user_id} has no message {message_id} in chat {chat.id}")
        msg.text = new_text
        msg.edits.append(new_text)
        msg.edit_date = int(self.now())
        self.event("user_edit", chat_id=chat.id, message=msg.summary())
        kind = "edited_channel_post" if chat.type == "channel" else "edited_message"
        self.enqueue(kind, msg.to_api())
        return msg

    def user_presses(
        self, user_id: int, message_id: int, data: str, *, chat_id: int | None = None
    ) -> CallbackRecord:
        """A user presses an inline button; ``data`` may be anything (forgery tests)."""
        user = self.user(user_id)
        chat = self._user_chat(user, chat_id)
        msg = self.message(chat.id, message_id)
        if msg is None:
            raise KeyError(f"no message {message_id} in chat {chat.id}")
        query_id = str(next(self._callback_ids))
        record = CallbackRecord(
            id=query_id,
            user_id=user_id,
            chat_id=chat.id,
            message_id=msg.message_id,
            data=data,
            ts=self.now(),
        )
        self.callbacks[query_id] = record
        self.event("callback", chat_id=chat.id, message_id=msg.message_id, data=data)
        self.enqueue(
            "callback_query",
            {
                "id": query_id,
                "from": user.as_user(),
                "message": msg.to_api(),
                "chat_instance": str(-(abs(chat.id) * 7919 % 10**18) - 1),
                "data": data,
            },
        )
        return record

    def group_message(self, chat_id: int, user_id: int, text: str) -> StoredMessage:
        """A member writes in a group; the bot only hears it while it is a member."""
        self.group(chat_id)
        return self.user_sends(user_id, text, chat_id=chat_id)

    def add_bot_to_group(
        self, chat_id: int, user_id: int, *, title: str | None = None
    ) -> dict[str, Any] | None:
        """A user adds the bot to a group: ``my_chat_member`` plus the service message."""
        chat = self.group(chat_id, title)
        user = self.user(user_id)
        old = "kicked" if chat.bot_kicked else "left"
        chat.bot_member = True
        chat.bot_kicked = False
        update = self.chat_member_change(chat, user, old, "member")
        service = self.store(
            chat,
            sender=user.as_user(),
            from_bot=False,
            kind="new_chat_members",
            content={"new_chat_members": [self.bot_user]},
        )
        self.enqueue("message", service.to_api())
        return update

    def remove_bot_from_group(
        self, chat_id: int, user_id: int, *, kicked: bool = True
    ) -> dict[str, Any] | None:
        """An admin removes the bot from a group: ``my_chat_member`` (``kicked`` or
        ``left``); later sends answer 403 as Telegram does, and the bot hears no more."""
        chat = self.chats.get(chat_id)
        if chat is None or chat.type not in ("group", "supergroup"):
            raise KeyError(f"no group {chat_id}")
        if not chat.bot_member:
            raise ValueError(f"the bot is not in group {chat_id}")
        user = self.user(user_id)
        chat.bot_member = False
        chat.bot_kicked = kicked
        return self.chat_member_change(chat, user, "member", "kicked" if kicked else "left")

    def migrate_group(
        self, chat_id: int, user_id: int, *, new_chat_id: int | None = None
    ) -> ChatRecord:
        """A basic group is upgraded to a supergroup, as Telegram does it.

        The bot hears two service messages: ``migrate_to_chat_id`` in the old group and
        ``migrate_from_chat_id`` in the new supergroup (telegram-bot-api/Client.cpp,
        messageChatUpgradeTo / messageChatUpgradeFrom). Sends to the old id then answer
        400 "group chat was upgraded to a supergroup chat" with
        ``parameters.migrate_to_chat_id``. Returns the new supergroup.
        """
        old = self.chats.get(chat_id)
        if old is None or old.type != "group":
            raise KeyError(f"no basic group {chat_id}")
        if old.migrated_to is not None:
            raise ValueError(f"group {chat_id} was already upgraded")
        # A supergroup's Bot API id is -100 followed by its own id (Client.cpp
        # get_supergroup_chat_id: -1000000000000 - supergroup_id).
        new_id = new_chat_id if new_chat_id is not None else -1_000_000_000_000 + chat_id
        if new_id > -1_000_000_000_000 or new_id in self.chats:
            raise ValueError(f"{new_id} is not a free supergroup id")
        new = ChatRecord(id=new_id, type="supergroup", title=old.title,
                         bot_member=old.bot_member, bot_kicked=old.bot_kicked)
        self.chats[new_id] = new
        old.migrated_to = new_id
        user = self.user(user_id)
        self.event("migrate", chat_id=chat_id, new_chat_id=new_id)
        for chat, content in ((old, {"migrate_to_chat_id": new_id}),
                              (new, {"migrate_from_chat_id": chat_id})):
            service = self.store(chat, sender=user.as_user(), from_bot=False,
                                 kind="migrate", content=content)
            if old.bot_member:
                self.enqueue("message", service.to_api())
        return new

    def chat_member_change(
        self, chat: ChatRecord, user: UserRecord, old: str, new: str
    ) -> dict[str, Any] | None:
        """Queue a ``my_chat_member`` update for the bot's own status in ``chat``."""

        def member(status: str) -> dict[str, Any]:
            info: dict[str, Any] = {"user": self.bot_user, "status": status}
            if status == "kicked":
                info["until_date"] = 0
            return info

        self.event("my_chat_member", chat_id=chat.id, old=old, new=new)
        return self.enqueue(
            "my_chat_member",
            {
                "chat": chat.as_chat(),
                "from": user.as_user(),
                "date": int(self.now()),
                "old_chat_member": member(old),
                "new_chat_member": member(new),
            },
        )

    def channel_post(self, chat_id: int, text: str, *, title: str | None = None) -> StoredMessage:
        """A post in a channel the bot administers (no ``from``, has ``sender_chat``)."""
        chat = self.chats.get(chat_id)
        if chat is None:
            chat = ChatRecord(id=chat_id, type="channel", title=title or f"Channel {chat_id}")
            self.chats[chat_id] = chat
        msg = self.store(chat, sender=None, from_bot=False, kind="text", text=text)
        self.enqueue("channel_post", msg.to_api())
        return msg

    def user_blocks_bot(self, user_id: int) -> None:
        """The user blocks the bot: later sends get 403, the bot hears ``my_chat_member``."""
        user = self.user(user_id)
        if not user.blocked_bot:
            user.blocked_bot = True
            self.chat_member_change(self.chats[user_id], user, "member", "kicked")

    def user_deactivates(self, user_id: int) -> None:
        """The user deletes their account: no update arrives, every later send is a 403."""
        self.user(user_id).deactivated = True
        self.notify()

    def user_unblocks_bot(self, user_id: int) -> None:
        """The user unblocks (restarts) the bot."""
        user = self.user(user_id)
        if user.blocked_bot:
            user.blocked_bot = False
            self.chat_member_change(self.chats[user_id], user, "kicked", "member")

    # -- helpers -----------------------------------------------------------------

    def next_file_tag(self) -> int:
        """A number that makes fake file ids unique."""
        return len(self.messages) + 1

    def _user_chat(self, user: UserRecord, chat_id: int | None) -> ChatRecord:
        if chat_id is None or chat_id == user.id:
            return self.chats[user.id]
        if chat_id > 0:
            raise ValueError("a user can only write in their own private chat or a group")
        chat = self.chats.get(chat_id) or self.group(chat_id)
        return chat

    def _reply_target(self, chat: ChatRecord, reply_to: int | None) -> StoredMessage | None:
        if reply_to is None:
            return None
        target = self.message(chat.id, reply_to)
        if target is None:
            raise KeyError(f"no message {reply_to} in chat {chat.id} to reply to")
        return target

    def _forward_origin(self) -> dict[str, Any]:
        return {"type": "hidden_user", "sender_user_name": "Someone Else", "date": int(self.now())}

    def _deliver_user_message(self, user: UserRecord, chat: ChatRecord, msg: StoredMessage) -> None:
        if chat.type == "private":
            user.started = True
            if user.blocked_bot:
                return  # Telegram does not deliver messages to a bot the user blocked.
        elif not chat.bot_member:
            return
        self.enqueue("message", msg.to_api())


def media_content(kind: str, user: UserRecord, tag: int) -> dict[str, Any]:
    """Realistic payload fields for a media message of ``kind``."""
    file = {"file_id": f"FAKE-{kind}-{tag}", "file_unique_id": f"u{kind}{tag}"}
    match kind:
        case "photo":
            return {
                "photo": [
                    {
                        **file,
                        "file_id": f"{file['file_id']}-s",
                        "width": 90,
                        "height": 90,
                        "file_size": 1200,
                    },
                    {**file, "width": 800, "height": 800, "file_size": 64000},
                ]
            }
        case "document":
            return {
                "document": {
                    **file,
                    "file_name": "scan.pdf",
                    "mime_type": "application/pdf",
                    "file_size": 20480,
                }
            }
        case "voice":
            return {"voice": {**file, "duration": 7, "mime_type": "audio/ogg", "file_size": 9000}}
        case "sticker":
            return {
                "sticker": {
                    **file,
                    "type": "regular",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                    "emoji": "🙂",
                }
            }
        case "video_note":
            return {"video_note": {**file, "length": 240, "duration": 5}}
        case "contact":
            return {
                "contact": {
                    "phone_number": "+15555550123",
                    "first_name": user.first_name,
                    "user_id": user.id,
                }
            }
        case "location":
            return {"location": {"latitude": 40.7128, "longitude": -74.006}}
        case "poll":
            return {
                "poll": {
                    "id": f"{tag}",
                    "question": "Which day works?",
                    "options": [
                        {"text": "Mon", "voter_count": 0, "persistent_id": "0"},
                        {"text": "Tue", "voter_count": 0, "persistent_id": "1"},
                    ],
                    "total_voter_count": 0,
                    "is_closed": False,
                    "is_anonymous": True,
                    "type": "regular",
                    "allows_multiple_answers": False,
                    "allows_revoting": False,
                    "members_only": False,
                }
            }
        case "video":
            return {
                "video": {
                    **file,
                    "width": 640,
                    "height": 360,
                    "duration": 12,
                    "mime_type": "video/mp4",
                }
            }
        case "audio":
            return {
                "audio": {**file, "duration": 30, "mime_type": "audio/mpeg", "title": "Recording"}
            }
    raise ValueError(f"unknown media kind {kind!r}")


def require(condition: bool, error: ApiError) -> None:
    """Raise ``error`` unless ``condition``: keeps method bodies flat."""
    if not condition:
        raise error
