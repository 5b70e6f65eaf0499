"""``FakeTelegram``: start/stop the fake server and drive it from Python.

A test reads like a transcript: the parent sends this, the bot answers that::

    fake_tg.user_sends(42, "/start")
    reply = await fake_tg.wait_for_message(42, lambda m: "Welcome" in m["text"])
    fake_tg.user_presses(42, reply["message_id"], reply["buttons"][0][0]["callback_data"])

Everything here is also reachable over HTTP under ``/_control`` (``control.py``)
for a bot running in another process, the demo page or the benchmark.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiohttp import web

from fake_telegram import faults as faults_module
from fake_telegram.control import control_routes
from fake_telegram.faults import FaultConfig, Faults
from fake_telegram.server import ApiHandler, create_app
from fake_telegram.state import CallbackRecord, LoggedRequest, World
from fake_telegram.webhook import WebhookDeliverer

DEFAULT_TOKEN = "123456789:TEST-fake-telegram-token"
Predicate = Callable[[dict[str, Any]], bool] | str | None


class FakeTelegram:
    """A local Bot API server with a world of users the test controls."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "parentline_test_bot",
        bot_name: str = "ParentLine",
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
        webhook_concurrency: int = 1,
        webhook_retry_delay: float = 0.05,
        webhook_max_retry_delay: float = 1.0,
    ) -> None:
        bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 123456789
        self.token = token
        self.host = host
        self.port = port
        self.world = World(bot_id=bot_id, bot_username=bot_username, bot_name=bot_name)
        self.faults = Faults(seed)
        self.webhook = WebhookDeliverer(
            self.world,
            concurrency=webhook_concurrency,
            retry_delay=webhook_retry_delay,
            max_retry_delay=webhook_max_retry_delay,
        )
        self.api = ApiHandler(self.world, self.faults, token)
        self._runner: web.AppRunner | None = None
        self._cursors: dict[int, int] = {}

    # -- lifecycle ---------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``: the server root (valid after ``start``)."""
        return f"http://{self.host}:{self.port}"

    @property
    def api_root(self) -> str:
        """The value for PARENTLINE_TELEGRAM_API_URL; the bot calls ``{root}/bot{token}/...``."""
        return self.url

    @property
    def base_url(self) -> str:
        """What PTB's ``base_url`` wants: the token is appended to it."""
        return f"{self.url}/bot"

    async def start(self) -> None:
        """Listen on ``host:port`` (port 0 picks a free one) and start webhook delivery."""
        self.api.closing.clear()
        app = create_app(self.api, control_routes(self))
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.port = int(sockets[0].getsockname()[1])
        await self.webhook.start()

    async def stop(self) -> None:
        """Wake long polls, stop webhook workers and close the server quickly."""
        self.api.shutdown()
        await self.webhook.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def reset(self) -> None:
        """Forget users, chats, messages, updates, webhook, logs and faults."""
        self.world.reset()
        self.faults.reset()
        self.webhook.reset()
        self._cursors.clear()

    # -- Telegram's clock ---------------------------------------------------------

    def now(self) -> float:
        """Telegram's time (seconds since the epoch): the wall clock plus every advance."""
        return self.world.now()

    def advance_clock(self, seconds: float) -> float:
        """Move Telegram's clock forward by ``seconds`` without sleeping; returns the new time.

        Every date the bot sees and every window the fake enforces reads this clock: an
        update kept unfetched past its lifetime (24 h; a button press 150 s) is dropped, a
        press is too old to answer after 15 s, a message too old to delete after 48 h.
        ``reset`` sets it back to real time."""
        return self.world.advance_clock(seconds)

    @property
    def expired_updates(self) -> int:
        """How many updates Telegram dropped unfetched because they outlived their lifetime."""
        self.world.expire()
        return self.world.expired_updates

    # -- the world's people --------------------------------------------------------

    def create_user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        language_code: str | None = "en",
        username: str | None = None,
        last_name: str | None = None,
        started: bool = True,
    ) -> dict[str, Any]:
        """Create a user; ``started=False`` makes the bot's first message a 403."""
        return self.world.create_user(
            user_id,
            first_name,
            language_code=language_code,
            username=username,
            last_name=last_name,
            started=started,
        ).as_user()

    def user_sends(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        reply_to: int | None = None,
        forwarded: bool = False,
    ) -> dict[str, Any]:
        """A user writes; returns the Message as the bot will receive it."""
        return self.world.user_sends(
            user_id, text, chat_id=chat_id, reply_to=reply_to, forwarded=forwarded
        ).to_api()

    def user_sends_media(
        self, user_id: int, kind: str, caption: str | None = None, *, chat_id: int | None = None
    ) -> dict[str, Any]:
        """A user sends media; ``kind`` is one of ``state.MEDIA_KINDS`` (photo, voice ...)."""
        return self.world.user_sends_media(user_id, kind, caption, chat_id=chat_id).to_api()

    def user_sends_location(
        self, user_id: int, latitude: float, longitude: float, *,
        live_period: int | None = None, chat_id: int | None = None,
    ) -> dict[str, Any]:
        """A user shares a location; with ``live_period`` a live one (see ``user_moves``)."""
        return self.world.user_sends_location(
            user_id, latitude, longitude, live_period=live_period, chat_id=chat_id).to_api()

    def user_moves(
        self, user_id: int, message_id: int, latitude: float, longitude: float, *,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        """A live location moves: an ``edited_message`` with the new coordinates."""
        return self.world.user_moves(user_id, message_id, latitude, longitude,
                                     chat_id=chat_id).to_api()

    def user_sends_album(
        self, user_id: int, kinds: list[str], caption: str | None = None, *,
        chat_id: int | None = None,
    ) -> list[dict[str, Any]]:
        """A user sends an album: one ``message`` update per item, one ``media_group_id``."""
        return [m.to_api() for m in self.world.user_sends_album(user_id, kinds, caption,
                                                                chat_id=chat_id)]

    def user_edits(
        self, user_id: int, message_id: int, new_text: str, *, chat_id: int | None = None
    ) -> dict[str, Any]:
        """A user edits their message (``edited_message`` update)."""
        return self.world.user_edits(user_id, message_id, new_text, chat_id=chat_id).to_api()

    def user_presses(
        self, user_id: int, message_id: int, data: str, *, chat_id: int | None = None
    ) -> dict[str, Any]:
        """A user presses a button on ``message_id``; ``data`` is sent as given (may be forged)."""
        record = self.world.user_presses(user_id, message_id, data, chat_id=chat_id)
        return _callback_dict(record)

    def group_message(self, chat_id: int, user_id: int, text: str) -> dict[str, Any]:
        """A member writes in group ``chat_id`` (< 0)."""
        return self.world.group_message(chat_id, user_id, text).to_api()

    def add_bot_to_group(
        self, chat_id: int, user_id: int, *, title: str | None = None
    ) -> dict[str, Any] | None:
        """``user_id`` adds the bot to group ``chat_id``; returns the my_chat_member update."""
        return self.world.add_bot_to_group(chat_id, user_id, title=title)

    def remove_bot_from_group(
        self, chat_id: int, user_id: int, *, kicked: bool = True
    ) -> dict[str, Any] | None:
        """An admin (``user_id``) removes the bot from group ``chat_id``.

        The bot hears ``my_chat_member`` with ``kicked`` (or ``left``); later sends answer
        403 "bot was kicked from the group chat" ("bot is not a member of ..." for ``left``).
        """
        return self.world.remove_bot_from_group(chat_id, user_id, kicked=kicked)

    def migrate_group(
        self, chat_id: int, user_id: int, *, new_chat_id: int | None = None
    ) -> int:
        """``user_id`` upgrades basic group ``chat_id`` to a supergroup; returns its id.

        The bot hears the ``migrate_to_chat_id`` and ``migrate_from_chat_id`` service
        messages; sends to the old id answer 400 "group chat was upgraded to a supergroup
        chat" with ``parameters.migrate_to_chat_id``.
        """
        return self.world.migrate_group(chat_id, user_id, new_chat_id=new_chat_id).id

    def revoke_token(self, new_token: str | None = None) -> str:
        """The owner revokes the token in @BotFather: every call with the old one answers
        401 "Unauthorized" (a parked long poll included); returns the new token."""
        bot_id = self.token.split(":", 1)[0]
        new = new_token or f"{bot_id}:TEST-revoked-{len(self.requests_log)}-{id(self) % 997}"
        self.token = new
        self.api.revoke_token(new)
        self.world.event("token_revoked")
        return new

    def channel_post(self, chat_id: int, text: str, *, title: str | None = None) -> dict[str, Any]:
        """A post in channel ``chat_id``."""
        return self.world.channel_post(chat_id, text, title=title).to_api()

    def user_blocks_bot(self, user_id: int) -> None:
        """The user blocks the bot: later sends to them answer 403."""
        self.world.user_blocks_bot(user_id)

    def user_deactivates(self, user_id: int) -> None:
        """The user deletes their account: silently, later sends answer 403 deactivated."""
        self.world.user_deactivates(user_id)

    def user_unblocks_bot(self, user_id: int) -> None:
        """The user unblocks the bot."""
        self.world.user_unblocks_bot(user_id)

    # -- what the bot did ----------------------------------------------------------

    def messages_to(self, chat_id: int) -> list[dict[str, Any]]:
        """Bot-sent messages to ``chat_id`` in order (deleted ones included, flagged).

        Each is ``{index, chat_id, message_id, kind, text, original_text, edited, edits,
        buttons: [[{text, callback_data|url}]], reply_to, deleted, parse_mode, copied_from,
        method, from_bot, date, ts}``; ``text`` is the caption for media.
        """
        return [m.summary() for m in self.world.bot_messages.get(chat_id, [])]

    def texts_to(self, chat_id: int) -> list[str]:
        """Just the current texts of live bot messages to ``chat_id``: handy in asserts."""
        return [m["text"] or "" for m in self.messages_to(chat_id) if not m["deleted"]]

    async def wait_for_message(
        self,
        chat_id: int,
        predicate: Predicate = None,
        timeout: float = 5.0,
        after: int | None = None,
    ) -> dict[str, Any]:
        """The first bot message to ``chat_id`` at index >= ``after`` that matches.

        ``predicate`` is a callable on the ``messages_to`` dict or a substring of
        the text. Without ``after`` it continues where the previous wait for this
        chat stopped, so consecutive waits read a transcript in order and a
        reply that came before the wait is not missed. Raises ``TimeoutError``
        listing what the bot did send.
        """
        match: Callable[[dict[str, Any]], bool]
        if predicate is None:
            match = _always
        elif isinstance(predicate, str):
            needle = predicate
            match = lambda m: needle in (m["text"] or "")  # noqa: E731
        else:
            match = predicate
        start = self._cursors.get(chat_id, 0) if after is None else after
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for msg in self.world.bot_messages.get(chat_id, [])[start:]:
                summary = msg.summary()
                if match(summary):
                    self._cursors[chat_id] = msg.index + 1
                    return summary
            remaining = deadline - loop.time()
            if remaining <= 0:
                sent = [m["text"] for m in self.messages_to(chat_id)[start:]]
                raise TimeoutError(
                    f"no matching bot message to chat {chat_id} within {timeout}s "
                    f"(from index {start}); the bot sent: {sent!r}"
                )
            await self.world.wait_changed(remaining)

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until ``condition()`` holds.

        Re-checks on every change in the world and at least every 0.1 s, so a
        condition on state outside the fake (a test's own list) also works.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout}s")
            await self.world.wait_changed(min(remaining, 0.1))

    @property
    def requests_log(self) -> list[LoggedRequest]:
        """Every Bot API call: ``method``, ``chat_id``, ``status`` (0 = dropped), ``fault``."""
        return self.world.requests_log

    def requests(self, method: str | None = None) -> list[LoggedRequest]:
        """Logged calls, optionally of one method."""
        return [r for r in self.world.requests_log if method is None or r.method == method]

    @property
    def raw_updates(self) -> int:
        """How many updates were ever queued for the bot."""
        return self.world.raw_updates

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet acknowledged (getUpdates) or delivered (webhook); expired ones
        are gone, as on Telegram."""
        self.world.expire()
        return list(self.world.pending)

    def callbacks(self) -> list[dict[str, Any]]:
        """Every button press and whether/how the bot answered it."""
        return [_callback_dict(r) for r in self.world.callbacks.values()]

    def chat_actions(self, chat_id: int | None = None) -> list[str]:
        """``sendChatAction`` actions, optionally for one chat."""
        return [a for c, a in self.world.chat_actions if chat_id is None or c == chat_id]

    # -- faults --------------------------------------------------------------------

    def configure_faults(self, *, seed: int | None = None, **options: Any) -> FaultConfig:
        """Set fault probabilities / flood limits by name (see ``FaultConfig``)."""
        return self.faults.configure(seed=seed, **options)

    @property
    def fault_counts(self) -> dict[str, int]:
        """How many of each fault were injected."""
        return dict(self.faults.counters)

    def duplicates(
        self, chat_id: int | None = None, marker: str | None = None
    ) -> dict[tuple[int, str], int]:
        """``{(chat_id, text): count}`` for texts sent more than once (containing ``marker``)."""
        chats = [chat_id] if chat_id is not None else list(self.world.bot_messages)
        msgs = [m for c in chats for m in self.messages_to(c)]
        return faults_module.duplicates(msgs, marker)

    def count_identical(self, chat_id: int, text: str) -> int:
        """How many live bot messages to ``chat_id`` have exactly ``text``."""
        return sum(1 for t in self.texts_to(chat_id) if t == text)


def _always(message: dict[str, Any]) -> bool:
    return True


def _callback_dict(record: CallbackRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "user_id": record.user_id,
        "chat_id": record.chat_id,
        "message_id": record.message_id,
        "data": record.data,
        "answered": record.answered,
        "answer": record.answer,
    }
