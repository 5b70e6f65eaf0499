"""Bot API methods, implemented over the ``World``.

Each method takes the decoded parameters and returns the ``result`` value or
raises ``ApiError`` with Telegram's status and wording. ``getUpdates`` is
missing here on purpose: it long-polls, so it lives in ``server.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from fake_telegram.errors import ApiError, bad_request, too_many_requests
from fake_telegram.formatting import plain_text
from fake_telegram.state import ChatRecord, StoredMessage, World, require

Params = dict[str, Any]
Method = Callable[[World, Params], Any]

TEXT_LIMIT = 4096
TEXT_BYTES_LIMIT = 1 << 15  # Client.cpp get_formatted_text: the raw text, markup included
CAPTION_LIMIT = 1024
DELETE_WINDOW = 48 * 3600  # a bot deletes messages (its own, or in private chats) this young
CALLBACK_DATA_LIMIT = 64
CALLBACK_TEXT_LIMIT = 200
# telegram-bot-api/Client.cpp, fail_query_with_error: TDLib's MESSAGE_NOT_MODIFIED becomes
# "Bad Request: message is not modified: specified new message content and reply markup
# are exactly the same as a current content and reply markup of the message".
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
# telegram-bot-api/Client.cpp, fail_query_with_error: TDLib's QUERY_ID_INVALID becomes
# "Bad Request: query is too old and response timeout expired or query ID is invalid".
_QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
#: How long after a press Telegram still takes its answer. Nothing in the Bot API docs or
#: Client.cpp states it (the server passes answerCallbackQuery to Telegram, which answers
#: QUERY_ID_INVALID once the press has timed out on its side); measured by a
#: python-telegram-bot maintainer as "after ~15 seconds you get the Telegram error
#: QUERY_ID_INVALID" (gist d-Rickyy-b/f789c75228bf00f572eec4450ed0d7c9), and reported as
#: seconds, never minutes, in library issues (e.g. eternnoir/pyTelegramBotAPI#1615: 20 s is
#: too late). The 150 s sometimes quoted is how long the *update* is queued (Client.cpp,
#: see ``state.CALLBACK_UPDATE_LIFETIME``), not the answer window.
CALLBACK_ANSWER_WINDOW = 15.0
#: Bots may delete a message only while it is less than 48 hours old (Bot API docs,
#: deleteMessage: "A message can only be deleted if it was sent less than 48 hours ago").
#: TDLib, MessagesManager.cpp: in private chats and basic groups ``can_revoke_message``
#: allows a bot ``unix_time - date <= 2 * 86400`` (DEFAULT_REVOKE_TIME_LIMIT for bots),
#: else delete_messages fails "Message can't be deleted for everyone"; in supergroups and
#: channels ``can_delete_channel_message`` refuses a bot once ``unix_time >= date +
#: 2 * 86400`` ("Message can't be deleted"). Client.cpp's fail_query_with_error lower-cases
#: the first letter and adds "Bad Request: ".
DELETE_WINDOW = 2 * 86400
_CANT_DELETE_FOR_EVERYONE = "message can't be deleted for everyone"
_CANT_DELETE = "message can't be deleted"
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]*$")
_WEBHOOK_PORTS = (443, 80, 88, 8443)
_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
_UPLOAD_KINDS = {
    "sendPhoto": "photo",
    "sendDocument": "document",
    "sendVoice": "voice",
    "sendVideo": "video",
    "sendAudio": "audio",
    "sendSticker": "sticker",
    "sendVideoNote": "video_note",
}

METHODS: dict[str, Method] = {}


def method(name: str) -> Callable[[Method], Method]:
    """Register a Bot API method under its Telegram name."""

    def register(func: Method) -> Method:
        METHODS[name] = func
        return func

    return register


# -- validation helpers -------------------------------------------------------------


def _text(params: Params, key: str = "text") -> tuple[str, str | None]:
    """The text checked in the order the official server checks it (wordings as
    ``fail_query_with_error`` lower-cases them):

    * missing or "": telegram-bot-api/Client.cpp ``get_input_message_text``, "Message text
      is empty";
    * over 32768 bytes as sent: Client.cpp ``get_formatted_text``, "Text is too long";
    * markup that does not parse: TDLib's "Can't parse entities: ..." (formatting.py);
    * nothing but whitespace once parsed: TDLib ``fix_formatted_text`` (MessageEntity.cpp),
      "Text must be non-empty";
    * over 4096 characters (code points) once parsed: TDLib MessageContent.cpp
      ``create_input_message_content``, "Message is too long".
    """
    text = params.get(key)
    if not isinstance(text, str) or not text:
        raise bad_request("message text is empty")
    if len(text.encode()) > TEXT_BYTES_LIMIT:
        raise bad_request("text is too long")
    parse_mode = params.get("parse_mode") or None
    visible = plain_text(text, parse_mode)
    if not visible.strip():
        raise bad_request("text must be non-empty")
    if len(visible) > TEXT_LIMIT:
        raise bad_request("message is too long")
    return text, parse_mode


def _caption(params: Params) -> str | None:
    """A caption within 1024 characters once parsed: TDLib MessageContent.cpp
    ``get_input_message_content`` refuses a longer one from a bot with "Message caption
    is too long" (Bot API: "Bad Request: message caption is too long")."""
    caption = params.get("caption")
    if caption is None:
        return None
    visible = plain_text(str(caption), params.get("parse_mode") or None)
    if len(visible) > CAPTION_LIMIT:
        raise bad_request("message caption is too long")
    return str(caption)


def _markup(params: Params) -> dict[str, Any] | None:
    """Validate an inline keyboard the way Telegram does for the common mistakes."""
    markup = params.get("reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard") or []:
        for button in row:
            if not button.get("text"):
                raise bad_request("text buttons are unallowed in the inline keyboard")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= CALLBACK_DATA_LIMIT:
                raise bad_request("BUTTON_DATA_INVALID")
            if data is None and not any(
                k in button
                for k in (
                    "url",
                    "web_app",
                    "login_url",
                    "switch_inline_query",
                    "switch_inline_query_current_chat",
                    "copy_text",
                    "pay",
                    "callback_game",
                    "switch_inline_query_chosen_chat",
                )
            ):
                raise bad_request("text buttons are unallowed in the inline keyboard")
    return markup


def _reply_to(world: World, chat: ChatRecord, params: Params) -> StoredMessage | None:
    reply = params.get("reply_parameters")
    allow_missing = bool(params.get("allow_sending_without_reply"))
    target_id: Any = params.get("reply_to_message_id")
    if isinstance(reply, dict):
        target_id = reply.get("message_id")
        allow_missing = bool(reply.get("allow_sending_without_reply", allow_missing))
        if reply.get("chat_id") not in (None, chat.id):
            other = world.resolve_chat(reply["chat_id"])
            target = world.message(other.id, target_id)
            require(
                target is not None or allow_missing, bad_request("message to be replied not found")
            )
            return target
    if target_id is None:
        return None
    target = world.message(chat.id, target_id)
    require(target is not None or allow_missing, bad_request("message to be replied not found"))
    return target


def _bot_message(world: World, params: Params) -> StoredMessage:
    """The bot's own message named by chat_id + message_id, for edits."""
    if params.get("inline_message_id"):
        raise bad_request("inline messages are not supported by the fake")
    chat = world.writable_chat(params.get("chat_id"))
    msg = world.message(chat.id, params.get("message_id"))
    # telegram-bot-api/Client.cpp, check_message(..., "message to edit", ...): a message
    # that does not exist fails with PSLICE() << message_type << " not found", that is
    # "Bad Request: message to edit not found".
    require(msg is not None and not msg.deleted, bad_request("message to edit not found"))
    assert msg is not None
    require(msg.from_bot, bad_request("message can't be edited"))
    # No age limit: TDLib's can_edit_message (MessagesManager.cpp) sets
    # ``has_edit_time_limit = !(is_bot && m->is_outgoing) && ...``, so a bot edits its own
    # messages for ever; the 48 h edit_time_limit binds people (and business messages).
    return msg


# -- identity and lifecycle ---------------------------------------------------------


@method("getMe")
def get_me(world: World, params: Params) -> Any:
    """The bot user; ``username`` is needed by CommandHandler."""
    return {
        **world.bot_user,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


@method("close")
@method("logOut")
def close(world: World, params: Params) -> Any:
    """Accepted and ignored: the fake has nothing to hand over."""
    return True


@method("setWebhook")
def set_webhook(world: World, params: Params) -> Any:
    """Record the webhook; an empty url removes it (Telegram's semantics).

    At most one setWebhook with a URL a second per bot, checked before anything else
    (so an identical or a refused one counts too): telegram-bot-api/Client.cpp,
    process_set_webhook_query, ``if (now < next_allowed_set_webhook_time_) {
    query->set_retry_after_error(1); ...} next_allowed_set_webhook_time_ = now + 1;``
    (deleteWebhook and an empty url are not limited). Query.cpp set_retry_after_error
    words it "Too Many Requests: retry after 1" with ``parameters.retry_after`` 1.
    """
    url = str(params.get("url") or "")
    if url:
        now = world.now()
        if now < world.next_set_webhook_at:
            raise too_many_requests(1)
        world.next_set_webhook_at = now + 1
    if url and not url.startswith(("http://", "https://")):
        raise bad_request("invalid webhook URL specified")  # Client.cpp do_set_webhook
    secret = str(params.get("secret_token") or "")
    if url and len(secret) > 256:  # Client.cpp do_set_webhook
        raise bad_request("secret token is too long")
    if url and not _SECRET_TOKEN.match(secret):  # td::is_base64url_characters
        raise bad_request("secret token contains unallowed characters")
    if url and world.webhook_rules == "official":
        _official_webhook_url(url)
    if params.get("drop_pending_updates"):
        world.pending.clear()
    hook = world.webhook
    hook.url = url
    hook.secret_token = params.get("secret_token") or None
    hook.max_connections = int(params.get("max_connections") or 40)
    if "allowed_updates" in params:
        world.allowed_updates = params["allowed_updates"] or None
        hook.allowed_updates = world.allowed_updates
    hook.last_error_date = hook.last_error_message = None
    world.notify()
    return True


def _official_webhook_url(url: str) -> None:
    """What Telegram's own server refuses (WebhookActor.cpp; a ``--local`` server does not)."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    try:
        port = parts.port or 443
    except ValueError:
        port = -1
    if port not in _WEBHOOK_PORTS:
        raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")


@method("deleteWebhook")
def delete_webhook(world: World, params: Params) -> Any:
    """Remove the webhook so getUpdates works again."""
    if params.get("drop_pending_updates"):
        world.pending.clear()
    world.webhook.url = ""
    world.webhook.secret_token = None
    world.notify()
    return True


@method("getWebhookInfo")
def get_webhook_info(world: World, params: Params) -> Any:
    """Webhook state including pending count and the last delivery error."""
    hook = world.webhook
    world.expire()
    info: dict[str, Any] = {
        "url": hook.url,
        "has_custom_certificate": False,
        "pending_update_count": len(world.pending),
    }
    if hook.url:
        info["max_connections"] = hook.max_connections
        if hook.allowed_updates:
            info["allowed_updates"] = hook.allowed_updates
    if hook.last_error_date is not None:
        info["last_error_date"] = hook.last_error_date
        info["last_error_message"] = hook.last_error_message
    return info


# -- sending -----------------------------------------------------------------------


@method("sendMessage")
def send_message(world: World, params: Params) -> Any:
    """Send text; 400 over 4096 visible characters or with unparsable markup."""
    chat = world.writable_chat(params.get("chat_id"))
    text, parse_mode = _text(params)
    msg = world.store(
        chat,
        sender=world.bot_user,
        from_bot=True,
        kind="text",
        text=text,
        parse_mode=parse_mode,
        reply_markup=_markup(params),
        reply_to=_reply_to(world, chat, params),
        method="sendMessage",
    )
    return msg.to_api()


def _send_upload(kind: str) -> Method:
    def send(world: World, params: Params) -> Any:
        chat = world.writable_chat(params.get("chat_id"))
        tag = world.next_file_tag()
        file = {"file_id": f"FAKE-bot-{kind}-{tag}", "file_unique_id": f"b{kind}{tag}"}
        content: dict[str, Any] = {
            kind: [{**file, "width": 800, "height": 800}] if kind == "photo" else file
        }
        msg = world.store(
            chat,
            sender=world.bot_user,
            from_bot=True,
            kind=kind,
            caption=_caption(params),
            content=content,
            reply_markup=_markup(params),
            reply_to=_reply_to(world, chat, params),
            method=f"send{kind}",
        )
        return msg.to_api()

    return send


for _name, _kind in _UPLOAD_KINDS.items():
    METHODS[_name] = _send_upload(_kind)


def _copy(world: World, params: Params, *, forward: bool) -> StoredMessage:
    chat = world.writable_chat(params.get("chat_id"))
    source_chat = world.resolve_chat(params.get("from_chat_id"))
    source = world.message(source_chat.id, params.get("message_id"))
    missing = "message to forward not found" if forward else "message to copy not found"
    require(source is not None, bad_request(missing))
    assert source is not None
    require(not source.kind.startswith("new_chat"), bad_request("message can't be copied"))
    caption = source.caption
    if not forward and source.kind != "text" and "caption" in params:
        caption = _caption(params)
    origin = None
    if forward:
        sender = source.sender or world.bot_user
        origin = {"type": "user", "sender_user": sender, "date": source.date}
    return world.store(
        chat,
        sender=world.bot_user,
        from_bot=True,
        kind=source.kind,
        text=source.text,
        caption=caption,
        content=dict(source.content),
        entities=source.entities,
        reply_markup=None if forward else _markup(params),
        reply_to=None if forward else _reply_to(world, chat, params),
        forward_origin=origin,
        copied_from=(source_chat.id, source.message_id),
        method="forwardMessage" if forward else "copyMessage",
    )


@method("copyMessage")
def copy_message(world: World, params: Params) -> Any:
    """Copy any non-service message between chats; Telegram answers only the new id."""
    return {"message_id": _copy(world, params, forward=False).message_id}


def _message_ids(params: Params) -> list[int]:
    """``message_ids`` checked as telegram-bot-api/Client.cpp ``get_message_ids`` does
    (1..100 positive integers; its messages, lower-cased by ``fail_query_with_error``)."""
    ids = params.get("message_ids")
    if ids is None or ids == "":
        raise bad_request("message identifiers are not specified")
    if not isinstance(ids, list):
        raise bad_request("expected an Array of message identifiers")
    if len(ids) > 100:
        raise bad_request("too many message identifiers specified")
    out: list[int] = []
    for mid in ids:
        if isinstance(mid, str) and mid.lstrip("-").isdigit():
            mid = int(mid)
        if not isinstance(mid, int) or isinstance(mid, bool):
            raise bad_request("message identifier must be a Number")
        if mid <= 0:
            raise bad_request("invalid message identifier specified")
        out.append(mid)
    if not out:
        raise bad_request("message identifiers are not specified")
    return out


@method("copyMessages")
def copy_messages(world: World, params: Params) -> Any:
    """Copy several messages at once; an album's items stay one album (a new shared
    ``media_group_id``). Answers their new ids in order, as Telegram does. Messages that
    do not exist are skipped: telegram-bot-api/Client.cpp checks them with
    ``check_messages(..., allow_empty=true, "message to forward", ...)``, which drops the
    missing ones, so none found is an empty answer, not an error."""
    chat = world.writable_chat(params.get("chat_id"))
    source_chat = world.resolve_chat(params.get("from_chat_id"))
    ids = _message_ids(params)
    sources = [m for m in (world.message(source_chat.id, i) for i in sorted(set(ids)))
               if m is not None and not m.deleted]
    groups: dict[str, str] = {}
    out = []
    for source in sources:
        require(not source.kind.startswith("new_chat"), bad_request("message can't be copied"))
        group = None
        if source.media_group_id is not None:
            group = groups.setdefault(source.media_group_id, world.next_media_group_id())
        copy = world.store(
            chat,
            sender=world.bot_user,
            from_bot=True,
            kind=source.kind,
            text=source.text,
            caption=None if params.get("remove_caption") else source.caption,
            content=dict(source.content),
            entities=source.entities,
            copied_from=(source_chat.id, source.message_id),
            media_group_id=group,
            method="copyMessages",
        )
        out.append({"message_id": copy.message_id})
    return out


_ALBUM_KINDS = {"photo": "photo", "video": "video", "document": "document", "audio": "audio"}


@method("sendMediaGroup")
def send_media_group(world: World, params: Params) -> Any:
    """Send 2-10 photos/videos (or documents, or audio) as one album; answers the
    Messages. ``media`` is a JSON array of InputMedia (telegram-bot-api/Client.cpp
    ``get_input_message_contents``: "Can't parse media JSON object", "Expected an Array of
    InputMedia", "Can't parse InputMedia: ...")."""
    chat = world.writable_chat(params.get("chat_id"))
    media = params.get("media")
    if isinstance(media, str):
        raise bad_request("can't parse media JSON object")
    require(isinstance(media, list), bad_request("expected an Array of InputMedia"))
    assert isinstance(media, list)
    # TDLib itself refuses other counts; its wording is not in Client.cpp, so the fake's
    # description here is its own.
    require(2 <= len(media) <= 10, bad_request("an album must have 2 to 10 items"))
    kinds: list[str] = []
    for item in media:
        kind = _ALBUM_KINDS.get(str(item.get("type"))) if isinstance(item, dict) else None
        if kind is None:
            raise bad_request("can't parse InputMedia: media not found")
        kinds.append(kind)
    if not any(set(kinds) <= g for g in ({"photo", "video"}, {"document"}, {"audio"})):
        # Client.cpp: MEDIA_GROUPED_INVALID
        raise bad_request("can't use the media of the specified type in the album")
    group = world.next_media_group_id()
    out = []
    for item, kind in zip(media, kinds, strict=True):
        tag = world.next_file_tag()
        file = {"file_id": str(item.get("media") or f"FAKE-bot-{kind}-{tag}"),
                "file_unique_id": f"b{kind}{tag}"}
        content: dict[str, Any] = {
            kind: [{**file, "width": 800, "height": 800}] if kind == "photo" else file}
        # Each item's caption is checked like any caption (TDLib's "Message caption is too
        # long"), with that item's parse_mode.
        caption = _caption(item)
        msg = world.store(
            chat,
            sender=world.bot_user,
            from_bot=True,
            kind=kind,
            caption=caption,
            content=content,
            reply_to=_reply_to(world, chat, params),
            media_group_id=group,
            method="sendMediaGroup",
        )
        out.append(msg.to_api())
    return out


@method("forwardMessage")
def forward_message(world: World, params: Params) -> Any:
    """Forward with ``forward_origin`` (which reveals the sender: handoff must use copy)."""
    return _copy(world, params, forward=True).to_api()


@method("editMessageText")
def edit_message_text(world: World, params: Params) -> Any:
    """Edit the bot's text; omitting reply_markup removes the keyboard, as on Telegram."""
    msg = _bot_message(world, params)
    require(msg.kind == "text", bad_request("there is no text in the message to edit"))
    text, parse_mode = _text(params)
    markup = _markup(params)
    require(text != msg.text or markup != msg.reply_markup, bad_request(_NOT_MODIFIED))
    msg.text = text
    msg.parse_mode = parse_mode
    msg.reply_markup = markup
    msg.edits.append(text)
    msg.edit_date = int(world.now())
    world.event("bot_edit", chat_id=msg.chat.id, message=msg.summary())
    world.notify()
    return msg.to_api()


@method("editMessageReplyMarkup")
def edit_message_reply_markup(world: World, params: Params) -> Any:
    """Replace or remove the inline keyboard of the bot's message."""
    msg = _bot_message(world, params)
    markup = _markup(params)
    current = msg.reply_markup if msg.buttons() else None
    new = markup if markup and markup.get("inline_keyboard") else None
    require(new != current, bad_request(_NOT_MODIFIED))
    msg.reply_markup = new
    msg.edit_date = int(world.now())
    world.event("bot_edit", chat_id=msg.chat.id, message=msg.summary())
    world.notify()
    return msg.to_api()


@method("deleteMessage")
def delete_message(world: World, params: Params) -> Any:
    """Delete a message (the bot may delete either side in private chats) younger than
    48 hours on the fake's clock; older ones get Telegram's 400 (see DELETE_WINDOW)."""
    chat = world.resolve_chat(params.get("chat_id"))
    msg = world.message(chat.id, params.get("message_id"))
    # telegram-bot-api/Client.cpp, check_message(..., "message to delete", ...).
    require(msg is not None, bad_request("message to delete not found"))
    assert msg is not None
    age = int(world.now()) - msg.date
    if chat.type in ("supergroup", "channel"):
        require(age < DELETE_WINDOW, bad_request(_CANT_DELETE))
    else:
        require(age <= DELETE_WINDOW, bad_request(_CANT_DELETE_FOR_EVERYONE))
    msg.deleted = True
    world.event("delete", chat_id=chat.id, message_id=msg.message_id)
    world.notify()
    return True


@method("answerCallbackQuery")
def answer_callback_query(world: World, params: Params) -> Any:
    """Answer a press once, within CALLBACK_ANSWER_WINDOW on the fake's clock; a second
    answer, a late one or an unknown id gets Telegram's 400."""
    record = world.callbacks.get(str(params.get("callback_query_id")))
    require(record is not None and not record.answered, bad_request(_QUERY_INVALID))
    assert record is not None
    require(world.now() - record.ts <= CALLBACK_ANSWER_WINDOW, bad_request(_QUERY_INVALID))
    # Bot API docs: text "0-200 characters". Telegram's servers refuse a longer one with
    # MESSAGE_TOO_LONG, which telegram-bot-api passes on as it is (second letter upper
    # case, so not lower-cased: Client.cpp fail_query_with_error); reported e.g. in
    # eternnoir/pyTelegramBotAPI#500 as "Bad Request: MESSAGE_TOO_LONG".
    require(len(str(params.get("text") or "")) <= CALLBACK_TEXT_LIMIT,
            bad_request("MESSAGE_TOO_LONG"))
    record.answered = True
    record.answer = {
        "text": params.get("text"),
        "show_alert": bool(params.get("show_alert")),
        "url": params.get("url"),
    }
    world.event("callback_answer", chat_id=record.chat_id, query_id=record.id, **record.answer)
    world.notify()
    return True


@method("sendChatAction")
def send_chat_action(world: World, params: Params) -> Any:
    """Record "typing…"; still subject to the blocked/not-a-member checks."""
    chat = world.writable_chat(params.get("chat_id"))
    world.chat_actions.append((chat.id, str(params.get("action"))))
    return True


@method("leaveChat")
def leave_chat(world: World, params: Params) -> Any:
    """Leave a group; the bot then hears ``my_chat_member`` and can no longer post there."""
    chat = world.resolve_chat(params.get("chat_id"))
    require(
        chat.type != "private", bad_request("chat member status can't be changed in private chats")
    )
    require(chat.bot_member, bad_request("chat not found"))
    chat.bot_member = False
    world.event("my_chat_member", chat_id=chat.id, old="member", new="left")
    world.enqueue(
        "my_chat_member",
        {
            "chat": chat.as_chat(),
            "from": world.bot_user,
            "date": int(world.now()),
            "old_chat_member": {"user": world.bot_user, "status": "member"},
            "new_chat_member": {"user": world.bot_user, "status": "left"},
        },
    )
    return True


@method("getChat")
def get_chat(world: World, params: Params) -> Any:
    """``ChatFullInfo``; PTB 22 requires accent_color_id and max_reaction_count."""
    chat = world.resolve_chat(params.get("chat_id"))
    return {**chat.as_chat(), "accent_color_id": 0, "max_reaction_count": 11}


@method("getChatMember")
def get_chat_member(world: World, params: Params) -> Any:
    """Membership as the fake knows it: every known user counts as a member."""
    chat = world.resolve_chat(params.get("chat_id"))
    try:
        user = world.users[int(params.get("user_id") or 0)]
    except (KeyError, ValueError):
        raise bad_request("user not found") from None
    if chat.type == "private" and chat.id != user.id:
        raise bad_request("user not found")
    return {"user": user.as_user(), "status": "member"}


def _commands_key(params: Params) -> str:
    scope = params.get("scope") or {}
    return f"{scope.get('type', 'default')}:{params.get('language_code') or ''}"


@method("setMyCommands")
def set_my_commands(world: World, params: Params) -> Any:
    """Store the command menu per scope and language."""
    commands = params.get("commands") or []
    for command in commands:
        name = str(command.get("command", ""))
        if not _COMMAND_NAME.match(name) or not command.get("description"):
            raise bad_request("BOT_COMMAND_INVALID")
    world.commands[_commands_key(params)] = list(commands)
    return True


@method("getMyCommands")
def get_my_commands(world: World, params: Params) -> Any:
    """The stored command menu for the scope and language."""
    return world.commands.get(_commands_key(params), [])


@method("deleteMyCommands")
def delete_my_commands(world: World, params: Params) -> Any:
    """Drop the command menu for the scope and language."""
    world.commands.pop(_commands_key(params), None)
    return True


def find(name: str) -> str | None:
    """The canonical method name; Telegram matches method names case-insensitively."""
    if name in METHODS:
        return name
    lowered = name.lower()
    return next((m for m in METHODS if m.lower() == lowered), None)


def call(world: World, name: str, params: Params) -> Any:
    """Run a synchronous method or raise 404 like Telegram for unknown names."""
    canonical = find(name)
    func = METHODS.get(canonical) if canonical else None
    if func is None:
        raise ApiError(404, "Not Found: method not found")
    return func(world, params)
