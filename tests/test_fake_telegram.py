"""The fake Bot API server, driven over real HTTP by the real python-telegram-bot client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters, Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes

from fake_telegram import FakeTelegram

PARENT = 42


@pytest.fixture
async def bot(fake_tg: FakeTelegram) -> AsyncIterator[Bot]:
    """A PTB Bot pointed at the fake, initialised (which calls getMe); PARENT exists."""
    fake_tg.create_user(PARENT, "Maria")
    async with Bot(fake_tg.token, base_url=fake_tg.base_url) as client:
        yield client


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d)] for t, d in pairs])


# -- identity and the polling application ------------------------------------------------


async def test_get_me_has_username_for_command_handler(bot: Bot) -> None:
    me = await bot.get_me()
    assert me.username == "parentline_test_bot"
    assert me.can_join_groups is True
    assert me.is_bot


async def test_unknown_token_is_invalid(fake_tg: FakeTelegram) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("999:WRONG", base_url=fake_tg.base_url):
            pass
    assert fake_tg.requests_log[-1].status == 401


async def test_start_command_reaches_handler_through_polling_and_reply_is_visible(
    fake_tg: FakeTelegram,
) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None and update.effective_user is not None
        await update.effective_message.reply_text(
            f"Welcome, {update.effective_user.first_name}",
            reply_parameters=ReplyParameters(update.effective_message.message_id),
        )

    app = ApplicationBuilder().token(fake_tg.token).base_url(fake_tg.base_url).build()
    app.add_handler(CommandHandler("start", start))
    fake_tg.create_user(PARENT, "Maria", language_code="es")
    async with app:
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=5)
        await app.start()
        sent = fake_tg.user_sends(PARENT, "/start")
        reply = await fake_tg.wait_for_message(PARENT, "Welcome")
        began = time.monotonic()
        await app.updater.stop()
        await app.stop()
    assert time.monotonic() - began < 3
    assert reply["text"] == "Welcome, Maria"
    assert reply["reply_to"] == sent["message_id"]
    assert reply["message_id"] == sent["message_id"] + 1  # one id sequence per chat
    assert [r.method for r in fake_tg.requests_log][:2] == ["getMe", "deleteWebhook"]


# -- getUpdates ---------------------------------------------------------------------------


async def test_get_updates_offset_acknowledges_earlier_updates(
    bot: Bot, fake_tg: FakeTelegram
) -> None:
    for text in ("one", "two", "three"):
        fake_tg.user_sends(PARENT, text)
    first = await bot.get_updates(timeout=0)
    assert [u.message.text for u in first if u.message] == ["one", "two", "three"]
    again = await bot.get_updates(timeout=0)  # nothing confirmed yet: same batch
    assert [u.update_id for u in again] == [u.update_id for u in first]
    rest = await bot.get_updates(offset=first[1].update_id, timeout=0)  # confirms "one"
    assert [u.message.text for u in rest if u.message] == ["two", "three"]
    limited = await bot.get_updates(limit=1, timeout=0)
    assert len(limited) == 1
    assert await bot.get_updates(offset=first[-1].update_id + 1, timeout=0) == ()
    assert fake_tg.pending_updates == []
    assert fake_tg.raw_updates == 3


async def test_negative_offset_keeps_only_the_last_updates(bot: Bot, fake_tg: FakeTelegram) -> None:
    for text in ("a", "b", "c"):
        fake_tg.user_sends(PARENT, text)
    last = await bot.get_updates(offset=-1, timeout=0)
    assert [u.message.text for u in last if u.message] == ["c"]
    assert len(fake_tg.pending_updates) == 1


async def test_long_poll_wakes_on_new_update(bot: Bot, fake_tg: FakeTelegram) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=20))
    await asyncio.sleep(0.2)
    assert not poll.done()
    began = time.monotonic()
    fake_tg.user_sends(PARENT, "hello?")
    updates = await asyncio.wait_for(poll, 3)
    assert time.monotonic() - began < 1
    assert updates[0].message is not None and updates[0].message.text == "hello?"


async def test_a_newer_poll_supersedes_a_parked_one_with_conflict(
    bot: Bot, fake_tg: FakeTelegram
) -> None:
    old = asyncio.create_task(bot.get_updates(timeout=20))
    await asyncio.sleep(0.2)
    # A second bot instance (PTB's own getUpdates pool holds a single connection).
    async with Bot(fake_tg.token, base_url=fake_tg.base_url) as second:
        # One that answers at once (timeout 0) does not end the parked poll...
        assert await second.get_updates(timeout=0) == ()
        await asyncio.sleep(0.1)
        assert not old.done()
        # ...one that parks in its place does (Client.cpp do_get_updates: abort_long_poll).
        newer = asyncio.create_task(second.get_updates(timeout=1))
        with pytest.raises(Conflict, match=r"(?i)terminated by other getUpdates"):
            await asyncio.wait_for(old, 3)
        assert await newer == ()


async def test_updates_another_poller_fetched_but_did_not_confirm_come_again(
    bot: Bot, fake_tg: FakeTelegram
) -> None:
    fake_tg.user_sends(PARENT, "are you there?")
    async with Bot(fake_tg.token, base_url=fake_tg.base_url) as stray:
        (seen,) = await stray.get_updates(timeout=1)  # fetched, never confirmed
    (again,) = await bot.get_updates(timeout=1)
    assert again.update_id == seen.update_id
    assert again.message is not None and again.message.text == "are you there?"


async def test_set_webhook_ends_a_parked_poll_with_conflict(
    bot: Bot, fake_tg: FakeTelegram
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=20))
    await asyncio.sleep(0.2)
    async with Bot(fake_tg.token, base_url=fake_tg.base_url) as other:
        assert await other.set_webhook("https://elsewhere.example.org/hook")
    with pytest.raises(Conflict, match=r"(?i)terminated by setWebhook request"):
        await asyncio.wait_for(poll, 3)
    with pytest.raises(Conflict, match=r"(?i)while webhook is active"):
        await bot.get_updates(timeout=0)


async def test_set_webhook_is_limited_to_one_a_second(bot: Bot, fake_tg: FakeTelegram) -> None:
    """Client.cpp process_set_webhook_query: a second setWebhook with a URL within a
    second gets 429 "Too Many Requests: retry after 1", even an identical one."""
    url = "https://line.example.org/telegram/webhook"
    assert await bot.set_webhook(url)
    with pytest.raises(RetryAfter):
        await bot.set_webhook(url)
    async with aiohttp.ClientSession(trust_env=False) as http, http.post(
        f"{fake_tg.base_url}{fake_tg.token}/setWebhook", data={"url": url}
    ) as raw:
        assert raw.status == 429
        assert await raw.json() == {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        }
    assert await bot.delete_webhook()  # deleting is not limited
    fake_tg.advance_clock(0.85)  # on Telegram's clock, still within the second
    with pytest.raises(RetryAfter):
        await bot.set_webhook(url)
    fake_tg.advance_clock(0.2)
    assert await bot.set_webhook(url)
    assert fake_tg.world.webhook.url == url


async def test_stop_wakes_parked_long_poll_quickly() -> None:
    fake = FakeTelegram()
    await fake.start()
    session = aiohttp.ClientSession(trust_env=False)
    poll = asyncio.create_task(
        session.post(f"{fake.base_url}{fake.token}/getUpdates", data={"timeout": "30"})
    )
    await asyncio.sleep(0.2)
    began = time.monotonic()
    await fake.stop()
    assert time.monotonic() - began < 2
    response = await asyncio.wait_for(poll, 2)
    assert (await response.json())["result"] == []
    await session.close()


async def test_allowed_updates_filters_later_updates(bot: Bot, fake_tg: FakeTelegram) -> None:
    await bot.get_updates(timeout=0, allowed_updates=["callback_query"])
    fake_tg.user_sends(PARENT, "ignored")
    assert fake_tg.pending_updates == []
    await bot.get_updates(timeout=0, allowed_updates=[])
    sent = fake_tg.user_sends(PARENT, "typo")
    fake_tg.user_edits(PARENT, sent["message_id"], "fixed")
    updates = await bot.get_updates(timeout=0)
    assert updates[1].edited_message is not None
    assert updates[1].edited_message.text == "fixed"
    assert isinstance(updates[1].edited_message.edit_date, object)


# -- users' messages look real -------------------------------------------------------------


async def test_user_messages_are_realistic(bot: Bot, fake_tg: FakeTelegram) -> None:
    fake_tg.create_user(7, "Ana", language_code="es", username="ana_m")
    raw = fake_tg.user_sends(7, "/start@parentline_test_bot now")
    assert raw["from"] == {
        "id": 7,
        "is_bot": False,
        "first_name": "Ana",
        "username": "ana_m",
        "language_code": "es",
    }
    assert raw["chat"] == {"id": 7, "type": "private", "first_name": "Ana", "username": "ana_m"}
    assert isinstance(raw["date"], int)
    assert raw["entities"] == [{"type": "bot_command", "offset": 0, "length": 26}]
    fake_tg.user_sends(7, "look at this", forwarded=True)
    for kind in (
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
    ):
        fake_tg.user_sends_media(7, kind, "cap" if kind in {"photo", "voice"} else None)
    updates = await bot.get_updates(timeout=0)
    messages = [u.message for u in updates if u.message]
    assert messages[0].parse_entities() and (messages[0].text or "").startswith("/start")
    assert messages[1].forward_origin is not None
    media = messages[2:]
    assert media[0].photo and media[0].caption == "cap"
    assert media[1].document and media[2].voice and media[3].sticker and media[4].video_note
    assert media[5].contact and media[6].location and media[7].poll
    assert media[8].video and media[9].audio


# -- sending, limits, blocking ------------------------------------------------------------


async def test_text_limit_is_4096_visible_characters(bot: Bot, fake_tg: FakeTelegram) -> None:
    await bot.send_message(PARENT, "x" * 4096)
    with pytest.raises(BadRequest, match=r"(?i)too long"):
        await bot.send_message(PARENT, "x" * 4097)
    await bot.send_message(PARENT, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(PARENT, "<b>unclosed", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)reserved"):
        await bot.send_message(PARENT, "Hi. There", parse_mode="MarkdownV2")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(999_999, "nobody")
    assert len(fake_tg.messages_to(PARENT)) == 2
    assert [r.status for r in fake_tg.requests("sendMessage")] == [200, 400, 200, 400, 400, 400]


async def test_blocked_user_gets_forbidden(bot: Bot, fake_tg: FakeTelegram) -> None:
    await bot.send_message(PARENT, "hi")
    fake_tg.user_blocks_bot(PARENT)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(PARENT, "still there?")
    updates = await bot.get_updates(timeout=0)
    change = updates[-1].my_chat_member
    assert change is not None and change.new_chat_member.status == "kicked"
    fake_tg.user_unblocks_bot(PARENT)
    await bot.send_message(PARENT, "welcome back")


async def test_bot_cannot_initiate_conversation(bot: Bot, fake_tg: FakeTelegram) -> None:
    fake_tg.create_user(5, "Sam", started=False)
    with pytest.raises(Forbidden, match=r"(?i)initiate"):
        await bot.send_message(5, "hello")
    fake_tg.user_sends(5, "/start")
    await bot.send_message(5, "hello")


async def test_callback_press_round_trip(bot: Bot, fake_tg: FakeTelegram) -> None:
    sent = await bot.send_message(PARENT, "Pick", reply_markup=keyboard(("Yes", "y"), ("No", "n")))
    [shown] = fake_tg.messages_to(PARENT)
    assert shown["buttons"] == [
        [{"text": "Yes", "callback_data": "y"}],
        [{"text": "No", "callback_data": "n"}],
    ]
    fake_tg.user_presses(PARENT, sent.message_id, "y")
    fake_tg.user_presses(PARENT, sent.message_id, "forged:anything")
    updates = await bot.get_updates(timeout=0)
    queries = [u.callback_query for u in updates if u.callback_query]
    assert [q.data for q in queries] == ["y", "forged:anything"]
    assert queries[0].message is not None and queries[0].message.message_id == sent.message_id
    assert queries[0].from_user.id == PARENT and queries[0].chat_instance
    await bot.answer_callback_query(queries[0].id, text="Noted")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(queries[0].id)
    assert [c["answered"] for c in fake_tg.callbacks()] == [True, False]
    await bot.edit_message_text("Picked yes", chat_id=PARENT, message_id=sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_text("Picked yes", chat_id=PARENT, message_id=sent.message_id)
    [edited] = fake_tg.messages_to(PARENT)
    assert edited["text"] == "Picked yes" and edited["original_text"] == "Pick"
    assert edited["edited"] and edited["buttons"] == []  # no reply_markup drops the keyboard


async def test_callback_data_over_64_bytes_is_rejected(bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(PARENT, "x", reply_markup=keyboard(("Too long", "d" * 65)))


async def test_edit_reply_markup_delete_and_user_message_edit_rules(
    bot: Bot, fake_tg: FakeTelegram
) -> None:
    from_user = fake_tg.user_sends(PARENT, "my words")
    with pytest.raises(BadRequest, match=r"(?i)can't be edited"):
        await bot.edit_message_text("nope", chat_id=PARENT, message_id=from_user["message_id"])
    sent = await bot.send_message(PARENT, "Pick", reply_markup=keyboard(("A", "a")))
    await bot.edit_message_reply_markup(PARENT, sent.message_id, reply_markup=None)
    assert fake_tg.messages_to(PARENT)[0]["buttons"] == []
    assert await bot.delete_message(PARENT, sent.message_id)
    assert fake_tg.messages_to(PARENT)[0]["deleted"]
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(PARENT, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("gone", chat_id=PARENT, message_id=sent.message_id)


async def test_copy_message_between_chats(bot: Bot, fake_tg: FakeTelegram) -> None:
    team = -1001234567890
    fake_tg.add_bot_to_group(team, 900, title="Specialists")
    photo = fake_tg.user_sends_media(PARENT, "photo", caption="my kid's rash")
    copied = await bot.copy_message(team, PARENT, photo["message_id"])
    text = fake_tg.user_sends(PARENT, "please help")
    await bot.copy_message(
        team, PARENT, text["message_id"], reply_markup=keyboard(("Take", "take:1"))
    )
    first, second = fake_tg.messages_to(team)
    assert copied.message_id == first["message_id"]
    assert first["kind"] == "photo" and first["text"] == "my kid's rash"
    assert first["copied_from"] == [PARENT, photo["message_id"]]
    assert second["text"] == "please help" and second["buttons"][0][0]["text"] == "Take"
    with pytest.raises(BadRequest, match=r"(?i)message to copy not found"):
        await bot.copy_message(team, PARENT, 9999)


async def test_groups_membership_and_leave_chat(bot: Bot, fake_tg: FakeTelegram) -> None:
    group = -555
    fake_tg.add_bot_to_group(group, 900, title="Team")
    fake_tg.group_message(group, 901, "hello team")
    updates = await bot.get_updates(timeout=0)
    assert updates[0].my_chat_member is not None
    assert updates[0].my_chat_member.new_chat_member.status == "member"
    assert updates[-1].message is not None and updates[-1].message.chat.type == "group"
    chat = await bot.get_chat(group)
    assert chat.title == "Team"
    await bot.send_message(group, "hi all")
    assert await bot.leave_chat(group)
    with pytest.raises(Forbidden, match=r"(?i)not a member"):
        await bot.send_message(group, "anyone?")


async def test_json_and_multipart_bodies(fake_tg: FakeTelegram, bot: Bot) -> None:
    async with aiohttp.ClientSession(trust_env=False) as session:
        url = f"{fake_tg.base_url}{fake_tg.token}/sendMessage"
        markup = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
        async with session.post(
            url, json={"chat_id": str(PARENT), "text": "123", "reply_markup": markup}
        ) as response:
            body = await response.json()
        assert body["ok"] and body["result"]["text"] == "123"
        async with session.post(url, data={"chat_id": str(PARENT), "text": "y" * 5000}) as response:
            assert response.status == 400
            assert (await response.json())["description"] == "Bad Request: message is too long"
    await bot.send_document(PARENT, b"%PDF-1.4 fake", filename="a.pdf", caption="form")
    kinds = [(m["kind"], m["text"]) for m in fake_tg.messages_to(PARENT)]
    assert kinds == [("text", "123"), ("document", "form")]
    assert fake_tg.messages_to(PARENT)[0]["buttons"] == [[{"text": "Go", "callback_data": "go"}]]


async def test_commands_and_chat_actions(bot: Bot, fake_tg: FakeTelegram) -> None:
    assert await bot.set_my_commands([("start", "Begin"), ("help", "Help")])
    assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
    assert await bot.send_chat_action(PARENT, "typing")
    assert fake_tg.chat_actions(PARENT) == ["typing"]


# -- webhook ---------------------------------------------------------------------------------


async def test_webhook_delivery_with_secret_and_retry(bot: Bot, fake_tg: FakeTelegram) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []
    calls = 0

    async def hook(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return web.Response(status=500)  # Telegram retries until a 2xx
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        assert await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret")
        for text in ("first", "second", "third"):
            fake_tg.user_sends(PARENT, text)
        await fake_tg.wait_until(lambda: len(received) == 3)
        assert [secret for secret, _ in received] == ["s3cret"] * 3
        assert [u["message"]["text"] for _, u in received] == ["first", "second", "third"]
        info = await bot.get_webhook_info()
        assert info.pending_update_count == 0 and info.url.endswith("/hook")
        assert info.last_error_message and "500" in info.last_error_message
        with pytest.raises(Conflict):
            await bot.get_updates(timeout=0)
        assert await bot.delete_webhook()
        fake_tg.user_sends(PARENT, "polling again")
        assert len(await bot.get_updates(timeout=0)) == 1
    finally:
        await runner.cleanup()


# -- faults ------------------------------------------------------------------------------------


async def test_fault_injection_is_counted(bot: Bot, fake_tg: FakeTelegram) -> None:
    fake_tg.configure_faults(drop=1.0)
    with pytest.raises(NetworkError):
        await bot.send_message(PARENT, "lost before")
    assert await bot.get_me()  # send_only: other methods unaffected
    fake_tg.configure_faults(drop=0.0, drop_after=1.0)
    with pytest.raises(NetworkError):
        await bot.send_message(PARENT, "relay #r1: sent but the answer was lost")
    fake_tg.configure_faults(drop_after=0.0, retry_after=1.0, retry_after_seconds=1)
    with pytest.raises(RetryAfter, match="Retry in 1 second"):
        await bot.send_message(PARENT, "slow down")
    fake_tg.configure_faults(retry_after=0.0, bad_gateway=1.0)
    with pytest.raises(NetworkError, match=r"(?i)Bad Gateway"):
        await bot.send_message(PARENT, "gateway")
    fake_tg.configure_faults(bad_gateway=0.0)
    await bot.send_message(PARENT, "relay #r1: sent but the answer was lost")  # the retry
    assert fake_tg.fault_counts == {"drop": 1, "drop_after": 1, "retry_after": 1, "bad_gateway": 1}
    assert fake_tg.texts_to(PARENT) == ["relay #r1: sent but the answer was lost"] * 2
    assert fake_tg.duplicates(PARENT, marker="#r1") == {
        (PARENT, "relay #r1: sent but the answer was lost"): 2
    }
    assert [r.fault for r in fake_tg.requests("sendMessage")] == [
        "drop",
        "drop_after",
        "status_429",
        "status_502",
        None,
    ]


async def test_seeded_faults_are_reproducible(fake_tg: FakeTelegram) -> None:
    def pattern(seed: int) -> list[bool]:
        fake_tg.configure_faults(seed=seed, bad_gateway=0.5)
        return [fake_tg.faults.decide("sendMessage", 1).error is not None for _ in range(40)]

    assert pattern(7) == pattern(7)
    assert pattern(7) != pattern(8)


async def test_flood_limits_per_chat_group_and_global(bot: Bot, fake_tg: FakeTelegram) -> None:
    fake_tg.faults.clock = lambda: 1000.0  # frozen: no refill, so the test is deterministic
    fake_tg.configure_faults(rate_limits=True, private_burst=3)
    for i in range(3):
        await bot.send_message(PARENT, f"burst {i}")
    with pytest.raises(RetryAfter):
        await bot.send_message(PARENT, "one too many")
    group = -777
    fake_tg.add_bot_to_group(group, 900)
    for i in range(20):
        await bot.send_message(group, f"g{i}")
    with pytest.raises(RetryAfter):
        await bot.send_message(group, "21st in a minute")
    fake_tg.configure_faults(global_per_second=2, private_burst=10)
    for uid in range(100, 104):
        fake_tg.create_user(uid)
    for uid in range(100, 102):
        await bot.send_message(uid, "hi")
    with pytest.raises(RetryAfter):
        await bot.send_message(103, "hi")
    assert fake_tg.fault_counts == {
        "rate_limited_private": 1,
        "rate_limited_group": 1,
        "rate_limited_global": 1,
    }


# -- HTTP control routes ---------------------------------------------------------------------------


async def test_control_routes_drive_the_fake(bot: Bot, fake_tg: FakeTelegram) -> None:
    base = f"{fake_tg.url}/_control"
    async with aiohttp.ClientSession(trust_env=False) as http:

        async def post(path: str, **body: Any) -> Any:
            async with http.post(f"{base}/{path}", json=body) as response:
                assert response.status == 200, await response.text()
                return await response.json()

        async def get(path: str, **query: Any) -> Any:
            async with http.get(f"{base}/{path}", params=query) as response:
                return response.status, await response.json()

        user = await post("users", id=11, first_name="Lee", language_code="en")
        assert user["first_name"] == "Lee"
        msg = await post("send", user_id=11, text="/start")
        assert msg["entities"][0]["type"] == "bot_command"
        [update] = await bot.get_updates(timeout=0)
        assert update.message is not None and update.message.text == "/start"
        sent = await bot.send_message(11, "Hello Lee", reply_markup=keyboard(("Ok", "ok")))
        status, found = await get("wait_message", chat_id=11, contains="Hello", timeout=2)
        assert status == 200 and found["message_id"] == sent.message_id
        status, listed = await get("messages", chat_id=11)
        assert [m["text"] for m in listed] == ["Hello Lee"]
        pressed = await post("press", user_id=11, message_id=sent.message_id, data="ok")
        assert pressed["data"] == "ok"
        status, _missing = await get("wait_message", chat_id=11, timeout=0.2)
        assert status == 408
        async with http.post(
            f"{base}/press", json={"user_id": 11, "message_id": 99, "data": "x"}
        ) as response:
            assert response.status == 404
        await post("send_media", user_id=11, kind="voice")
        await post("block", user_id=11)
        with pytest.raises(Forbidden):
            await bot.send_message(11, "blocked")
        faults = await post("faults", seed=3, bad_gateway=0.25)
        assert faults["config"]["bad_gateway"] == 0.25 and faults["seed"] == 3
        status, log = await get("requests", method="sendMessage")
        assert [r["status"] for r in log] == [200, 403]
        status, events = await get("events", after=0)
        assert {e["type"] for e in events} >= {"user_message", "bot_message", "callback"}
        status, state = await get("state")
        assert state["raw_updates"] == 4 and state["bot"]["username"] == "parentline_test_bot"
        await post("reset")
        status, state = await get("state")
        assert state["raw_updates"] == 0 and state["users"] == 0


async def test_control_events_long_poll_wakes(fake_tg: FakeTelegram) -> None:
    async with aiohttp.ClientSession(trust_env=False) as http:
        poll = asyncio.create_task(
            http.get(f"{fake_tg.url}/_control/events", params={"after": 0, "timeout": 10})
        )
        await asyncio.sleep(0.2)
        fake_tg.user_sends(PARENT, "hi")
        response = await asyncio.wait_for(poll, 2)
        events = await response.json()
        assert events[0]["type"] == "user_message" and events[0]["message"]["text"] == "hi"


async def test_wait_for_message_reads_a_transcript_in_order(
    bot: Bot, fake_tg: FakeTelegram
) -> None:
    for text in ("one", "two", "three"):
        await bot.send_message(PARENT, text)
    assert (await fake_tg.wait_for_message(PARENT))["text"] == "one"
    assert (await fake_tg.wait_for_message(PARENT, "three"))["text"] == "three"
    with pytest.raises(TimeoutError, match="the bot sent"):
        await fake_tg.wait_for_message(PARENT, timeout=0.1)
    assert (await fake_tg.wait_for_message(PARENT, after=1))["text"] == "two"


# -- the staff group's lifecycle and a revoked token (issue #13) --------------------------


async def test_a_group_upgraded_to_a_supergroup_refuses_the_old_id_with_the_new_one(
    bot: Bot, fake_tg: FakeTelegram
) -> None:
    group = -4242
    fake_tg.add_bot_to_group(group, 900, title="Staff")
    await bot.get_updates(timeout=0)
    new_id = fake_tg.migrate_group(group, 900)
    assert new_id == -1_000_000_004_242
    updates = await bot.get_updates(offset=-2, timeout=0)
    to_old, from_new = (u.message for u in updates)
    assert to_old is not None and from_new is not None
    assert to_old.chat.id == group and to_old.chat.type == "group"
    assert to_old.migrate_to_chat_id == new_id
    assert from_new.chat.id == new_id and from_new.chat.type == "supergroup"
    assert from_new.migrate_from_chat_id == group
    with pytest.raises(ChatMigrated) as migrated:
        await bot.send_message(group, "alert")
    assert migrated.value.new_chat_id == new_id
    async with aiohttp.ClientSession(trust_env=False) as http, http.post(
        f"{fake_tg.base_url}{fake_tg.token}/sendMessage", json={"chat_id": group, "text": "x"}
    ) as r:
        assert r.status == 400
        assert await r.json() == {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: group chat was upgraded to a supergroup chat",
            "parameters": {"migrate_to_chat_id": new_id},
        }
    await bot.send_message(new_id, "alert")
    assert fake_tg.texts_to(new_id) == ["alert"]


async def test_a_bot_removed_from_a_group_hears_it_and_is_refused(
    bot: Bot, fake_tg: FakeTelegram
) -> None:
    kicked, left = -777, -778
    for group in (kicked, left):
        fake_tg.add_bot_to_group(group, 900, title="Staff")
    await bot.send_message(kicked, "hi")
    fake_tg.remove_bot_from_group(kicked, 900)
    fake_tg.remove_bot_from_group(left, 900, kicked=False)
    updates = await bot.get_updates(offset=-2, timeout=0)
    statuses = [(u.my_chat_member.chat.id, u.my_chat_member.new_chat_member.status)
                for u in updates if u.my_chat_member is not None]
    assert statuses == [(kicked, "kicked"), (left, "left")]
    with pytest.raises(Forbidden, match=r"^Forbidden: bot was kicked from the group chat$"):
        await bot.send_message(kicked, "anyone?")
    with pytest.raises(Forbidden, match=r"^Forbidden: bot is not a member of the group chat$"):
        await bot.send_message(left, "anyone?")
    fake_tg.group_message(kicked, 901, "the bot is gone")  # the bot hears nothing more
    assert not [u for u in await bot.get_updates(offset=-1, timeout=0) if u.message]
    fake_tg.add_bot_to_group(kicked, 900)
    await bot.send_message(kicked, "back")


async def test_a_revoked_token_answers_401_to_every_call_even_a_parked_poll(
    fake_tg: FakeTelegram,
) -> None:
    old = fake_tg.token
    async with Bot(old, base_url=fake_tg.base_url) as client:
        parked = asyncio.create_task(client.get_updates(timeout=20))
        await asyncio.sleep(0.2)
        started = time.monotonic()
        new = fake_tg.revoke_token()
        with pytest.raises(InvalidToken):
            await parked
        assert time.monotonic() - started < 5
        for call in (client.get_me(), client.send_message(PARENT, "hi")):
            with pytest.raises(InvalidToken):
                await call
    assert new != old and fake_tg.token == new
    assert {r.status for r in fake_tg.requests_log[-3:]} == {401}
    async with Bot(new, base_url=fake_tg.base_url) as fresh:
        assert (await fresh.get_me()).username == "parentline_test_bot"


async def test_control_routes_migrate_remove_and_revoke(fake_tg: FakeTelegram) -> None:
    fake_tg.add_bot_to_group(-31, 900)
    fake_tg.add_bot_to_group(-32, 900)
    async with aiohttp.ClientSession(trust_env=False) as http:
        async def post(route: str, body: dict[str, Any]) -> Any:
            async with http.post(f"{fake_tg.url}/_control/{route}", json=body) as r:
                assert r.status == 200, await r.text()
                return await r.json()

        assert await post("migrate_group", {"chat_id": -31, "user_id": 900}) == {
            "chat_id": -1_000_000_000_031}
        assert (await post("remove_bot_from_group", {"chat_id": -32, "user_id": 900}))[
            "my_chat_member"]["new_chat_member"]["status"] == "kicked"
        answer = await post("revoke_token", {})
        assert answer["token"] == fake_tg.token


# -- Telegram's clock: what time does to updates, presses and deletions --------------------


async def test_the_clock_dates_messages_and_advancing_it_never_sleeps(
    bot: Bot, fake_tg: FakeTelegram
) -> None:
    began = time.monotonic()
    before = fake_tg.now()
    assert abs(before - time.time()) < 5  # real time by default (the demo relies on it)
    fake_tg.advance_clock(30 * 86400)
    sent = await bot.send_message(PARENT, "a month later")
    assert sent.date.timestamp() >= int(before) + 30 * 86400
    from_user = fake_tg.user_sends(PARENT, "me too")
    assert from_user["date"] >= int(before + 30 * 86400)
    with pytest.raises(ValueError):
        fake_tg.advance_clock(-1)
    fake_tg.reset()
    assert abs(fake_tg.now() - time.time()) < 5
    assert time.monotonic() - began < 5


async def test_updates_older_than_a_day_are_dropped_unfetched(
    bot: Bot, fake_tg: FakeTelegram
) -> None:
    fake_tg.user_sends(PARENT, "written at night")
    fake_tg.advance_clock(23 * 3600)
    fake_tg.user_sends(PARENT, "written a day later")
    assert len(fake_tg.pending_updates) == 2
    fake_tg.advance_clock(2 * 3600)  # the first is 25 h old now, the second 2 h
    assert (await bot.get_webhook_info()).pending_update_count == 1
    updates = await bot.get_updates(timeout=0)
    assert [u.message.text for u in updates if u.message] == ["written a day later"]
    assert updates[0].update_id == 2  # the dropped update's id is simply skipped
    assert fake_tg.expired_updates == 1


async def test_an_unfetched_button_press_is_dropped_after_150_seconds(
    bot: Bot, fake_tg: FakeTelegram
) -> None:
    sent = await bot.send_message(PARENT, "Pick", reply_markup=keyboard(("Yes", "y")))
    fake_tg.user_presses(PARENT, sent.message_id, "y")
    fake_tg.advance_clock(140)
    assert len(fake_tg.pending_updates) == 1
    fake_tg.advance_clock(20)
    assert fake_tg.pending_updates == [] and await bot.get_updates(timeout=0) == ()


async def test_webhook_delivery_skips_expired_updates(
    bot: Bot, fake_tg: FakeTelegram
) -> None:
    received: list[dict[str, Any]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        fake_tg.user_sends(PARENT, "while the line was down")
        fake_tg.advance_clock(25 * 3600)
        fake_tg.user_sends(PARENT, "just now")
        assert await bot.set_webhook(f"http://127.0.0.1:{port}/hook")
        await fake_tg.wait_until(lambda: len(received) == 1)
        await asyncio.sleep(0.1)
        assert [u["message"]["text"] for u in received] == ["just now"]
        assert (await bot.get_webhook_info()).pending_update_count == 0
    finally:
        await runner.cleanup()


async def test_a_press_answered_after_15_seconds_is_refused(
    bot: Bot, fake_tg: FakeTelegram
) -> None:
    sent = await bot.send_message(PARENT, "Pick", reply_markup=keyboard(("Yes", "y")))
    fake_tg.user_presses(PARENT, sent.message_id, "y")
    fake_tg.user_presses(PARENT, sent.message_id, "y")
    first, second = [u.callback_query for u in await bot.get_updates(timeout=0)]
    assert first is not None and second is not None
    fake_tg.advance_clock(14)
    assert await bot.answer_callback_query(first.id)
    fake_tg.advance_clock(2)
    with pytest.raises(BadRequest, match=r"(?i)^query is too old and response timeout expired "
                                         r"or query ID is invalid$"):
        await bot.answer_callback_query(second.id)
    assert [c["answered"] for c in fake_tg.callbacks()] == [True, False]


async def test_messages_can_be_deleted_for_48_hours_and_edited_for_ever(
    bot: Bot, fake_tg: FakeTelegram
) -> None:
    old = await bot.send_message(PARENT, "old")
    theirs = fake_tg.user_sends(PARENT, "theirs")
    fake_tg.advance_clock(47 * 3600)
    recent = await bot.send_message(PARENT, "recent")
    fake_tg.advance_clock(2 * 3600)  # old: 49 h, recent: 2 h
    async with aiohttp.ClientSession() as http:  # the exact wording, before PTB capitalises it
        async with http.post(f"{fake_tg.base_url}{fake_tg.token}/deleteMessage",
                             json={"chat_id": PARENT, "message_id": old.message_id}) as r:
            assert r.status == 400
            assert (await r.json())["description"] == (
                "Bad Request: message can't be deleted for everyone")
    with pytest.raises(BadRequest, match=r"(?i)^message can't be deleted for everyone$"):
        await bot.delete_message(PARENT, theirs["message_id"])
    assert await bot.delete_message(PARENT, recent.message_id)
    # A bot's own message has no edit window (TDLib can_edit_message).
    fake_tg.advance_clock(365 * 86400)
    await bot.edit_message_text("still mine to edit", chat_id=PARENT, message_id=old.message_id)
    assert fake_tg.messages_to(PARENT)[0]["text"] == "still mine to edit"
    assert requests_statuses(fake_tg, "deleteMessage") == [400, 400, 200]
    team = -1001234567890
    fake_tg.add_bot_to_group(team, 900, title="Specialists")
    post = await bot.send_message(team, "in a supergroup")
    fake_tg.advance_clock(2 * 86400)
    with pytest.raises(BadRequest, match=r"(?i)^message can't be deleted$"):
        await bot.delete_message(team, post.message_id)


def requests_statuses(fake: FakeTelegram, method: str) -> list[int]:
    return [r.status for r in fake.requests(method)]


async def test_control_route_moves_the_clock(fake_tg: FakeTelegram) -> None:
    fake_tg.user_sends(PARENT, "hello")
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{fake_tg.url}/_control/clock") as r:
            before = await r.json()
        async with http.post(f"{fake_tg.url}/_control/clock", json={"advance": 90000}) as r:
            after = await r.json()
        async with http.post(f"{fake_tg.url}/_control/clock", json={"advance": -5}) as r:
            assert r.status == 400
    assert after["offset"] == 90000 and after["now"] - before["now"] >= 90000
    assert after["expired_updates"] == 1 and fake_tg.pending_updates == []
