"""Telegram's real error answers: the fake says them exactly, the line reads them right.

One row of ``tests/data/bot_api_errors.yaml`` per failure the line can meet, each with
where the official Bot API server makes it. For every row a scenario drives the fake into
that failure over real HTTP with the real python-telegram-bot client, then checks

(a) the fake's answer: exactly the row's HTTP status, ``description`` and ``parameters``
    (as sent on the wire, before PTB rewords it), and
(b) the line's handling: the ``Outcome`` of ``bot.telegram.client.call`` where the line
    makes that call itself, or of ``classify`` on PTB's exception for calls it does not
    make through the outbox (captions, markup, polling, webhooks).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from telegram import Bot, InputMediaPhoto
from telegram.error import TelegramError

from bot.telegram.client import Outcome, call, classify
from bot.telegram.outgoing import serialize
from fake_telegram import FakeTelegram
from flows.events import AnswerCallback

ROWS: list[dict[str, Any]] = YAML(typ="safe").load(
    (Path(__file__).parent / "data" / "bot_api_errors.yaml").read_text(encoding="utf-8"))
PARENT = 42
GROUP = -5001
SUPERGROUP = -1000000005002

Scenario = Callable[[FakeTelegram, Bot], Awaitable[Outcome]]
SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str) -> Callable[[Scenario], Scenario]:
    def register(func: Scenario) -> Scenario:
        SCENARIOS[name] = func
        return func
    return register


async def refused(attempt: Awaitable[Any], method: str = "") -> Outcome:
    """A PTB call the line makes outside the outbox: it must fail; how would we read it?"""
    try:
        await attempt
    except TelegramError as exc:
        return classify(exc, method)
    raise AssertionError("Telegram accepted the call")



# -- who can be written to -------------------------------------------------------------------


@scenario("blocked")
async def _blocked(fake: FakeTelegram, bot: Bot) -> Outcome:
    fake.user_blocks_bot(PARENT)
    return await call(bot, PARENT, "sendMessage", {"text": "hello"})


@scenario("deactivated")
async def _deactivated(fake: FakeTelegram, bot: Bot) -> Outcome:
    fake.user_deactivates(PARENT)
    return await call(bot, PARENT, "sendMessage", {"text": "hello"})


@scenario("cant_initiate")
async def _cant_initiate(fake: FakeTelegram, bot: Bot) -> Outcome:
    fake.create_user(43, "Never started", started=False)
    return await call(bot, 43, "sendMessage", {"text": "hello"})


@scenario("chat_not_found")
async def _chat_not_found(fake: FakeTelegram, bot: Bot) -> Outcome:
    return await call(bot, 777_000_111, "sendMessage", {"text": "hello"})


@scenario("kicked_group")
async def _kicked_group(fake: FakeTelegram, bot: Bot) -> Outcome:
    fake.add_bot_to_group(GROUP, PARENT)
    fake.remove_bot_from_group(GROUP, PARENT)
    return await call(bot, GROUP, "sendMessage", {"text": "alert"})


@scenario("not_member_group")
async def _not_member_group(fake: FakeTelegram, bot: Bot) -> Outcome:
    fake.add_bot_to_group(GROUP, PARENT)
    fake.remove_bot_from_group(GROUP, PARENT, kicked=False)
    return await call(bot, GROUP, "sendMessage", {"text": "alert"})


@scenario("group_read_only")
async def _group_read_only(fake: FakeTelegram, bot: Bot) -> Outcome:
    fake.add_bot_to_group(GROUP, PARENT)
    fake.world.chats[GROUP].members_can_send = False  # an admin turned "send messages" off
    return await call(bot, GROUP, "sendMessage", {"text": "alert"})


@scenario("kicked_supergroup")
async def _kicked_supergroup(fake: FakeTelegram, bot: Bot) -> Outcome:
    fake.add_bot_to_group(SUPERGROUP, PARENT)
    fake.remove_bot_from_group(SUPERGROUP, PARENT)
    return await call(bot, SUPERGROUP, "sendMessage", {"text": "alert"})


@scenario("migrated")
async def _migrated(fake: FakeTelegram, bot: Bot) -> Outcome:
    fake.add_bot_to_group(GROUP, PARENT)
    fake.migrate_group(GROUP, PARENT, new_chat_id=-1000000005001)
    return await call(bot, GROUP, "sendMessage", {"text": "alert"})


# -- what may be sent -----------------------------------------------------------------------


@scenario("text_empty")
async def _text_empty(fake: FakeTelegram, bot: Bot) -> Outcome:
    return await call(bot, PARENT, "sendMessage", {"text": ""})


@scenario("text_blank")
async def _text_blank(fake: FakeTelegram, bot: Bot) -> Outcome:
    return await call(bot, PARENT, "sendMessage", {"text": " \n "})


@scenario("text_too_long")
async def _text_too_long(fake: FakeTelegram, bot: Bot) -> Outcome:
    return await call(bot, PARENT, "sendMessage", {"text": "é" * 4097})


@scenario("text_over_32k_bytes")
async def _text_over_32k_bytes(fake: FakeTelegram, bot: Bot) -> Outcome:
    # 4000 visible characters, but 36,000 bytes of markup around them.
    return await refused(bot.send_message(PARENT, "<b>x</b>" * 4000 + "<i></i>" * 1000,
                                          parse_mode="HTML"))


@scenario("cant_parse_entities")
async def _cant_parse_entities(fake: FakeTelegram, bot: Bot) -> Outcome:
    return await refused(bot.send_message(PARENT, "hi <foo>there</foo>", parse_mode="HTML"))


@scenario("caption_too_long_photo")
async def _caption_photo(fake: FakeTelegram, bot: Bot) -> Outcome:
    return await refused(bot.send_photo(PARENT, "FAKE-file", caption="x" * 1025))


@scenario("caption_too_long_copy")
async def _caption_copy(fake: FakeTelegram, bot: Bot) -> Outcome:
    photo = fake.user_sends_media(PARENT, "photo", caption="short")
    return await refused(bot.copy_message(PARENT, PARENT, photo["message_id"],
                                          caption="x" * 1025))


@scenario("caption_too_long_album")
async def _caption_album(fake: FakeTelegram, bot: Bot) -> Outcome:
    return await refused(bot.send_media_group(PARENT, [
        InputMediaPhoto("FAKE-1"), InputMediaPhoto("FAKE-2", caption="x" * 1025)]))


# -- edits, deletes, buttons ----------------------------------------------------------------


async def _bot_message(bot: Bot) -> int:
    outcome = await call(bot, PARENT, "sendMessage", {"text": "We are here."})
    assert outcome.message_id is not None
    return outcome.message_id


@scenario("not_modified")
async def _not_modified(fake: FakeTelegram, bot: Bot) -> Outcome:
    mid = await _bot_message(bot)
    return await call(bot, PARENT, "editMessageText", {"message_id": mid, "text": "We are here."})


@scenario("edit_not_found")
async def _edit_not_found(fake: FakeTelegram, bot: Bot) -> Outcome:
    return await call(bot, PARENT, "editMessageText", {"message_id": 9999, "text": "taken"})


@scenario("cant_be_edited")
async def _cant_be_edited(fake: FakeTelegram, bot: Bot) -> Outcome:
    theirs = fake.user_sends(PARENT, "my words")
    return await call(bot, PARENT, "editMessageText",
                      {"message_id": theirs["message_id"], "text": "not yours"})


@scenario("delete_not_found")
async def _delete_not_found(fake: FakeTelegram, bot: Bot) -> Outcome:
    return await call(bot, PARENT, "deleteMessage", {"message_id": 9999})


@scenario("cant_be_deleted")
async def _cant_be_deleted(fake: FakeTelegram, bot: Bot) -> Outcome:
    mid = await _bot_message(bot)
    stored = fake.world.message(PARENT, mid)
    assert stored is not None
    stored.date -= 48 * 3600 + 60  # sent two days and a minute ago
    return await call(bot, PARENT, "deleteMessage", {"message_id": mid})


@scenario("query_too_old")
async def _query_too_old(fake: FakeTelegram, bot: Bot) -> Outcome:
    return await call(bot, None, "answerCallbackQuery", {"callback_query_id": "4242"})


async def _pressed(fake: FakeTelegram, bot: Bot) -> str:
    mid = await _bot_message(bot)
    return str(fake.user_presses(PARENT, mid, "x")["id"])


@scenario("toast_too_long")
async def _toast_too_long(fake: FakeTelegram, bot: Bot) -> Outcome:
    query = await _pressed(fake, bot)
    return await call(bot, None, "answerCallbackQuery",
                      {"callback_query_id": query, "text": "x" * 201})


async def test_the_lines_toasts_are_cut_to_what_telegram_takes(
        fake_tg: FakeTelegram, bot: Bot) -> None:
    """A coordinator's long toast text (``staff.button_expired``) still stops the spinner."""
    query = await _pressed(fake_tg, bot)
    [(_, method, params, _)] = serialize(AnswerCallback(query, "That button has expired. " * 20))
    outcome = await call(bot, None, method, params)
    assert outcome.verdict == "sent", outcome


@scenario("button_data_invalid")
async def _button_data_invalid(fake: FakeTelegram, bot: Bot) -> Outcome:
    return await call(bot, PARENT, "sendMessage",
                      {"text": "Take?", "buttons": [[{"t": "Take", "d": "x" * 65}]]})


# -- limits, the token, polling, webhooks -----------------------------------------------------


@scenario("too_many_requests")
async def _too_many_requests(fake: FakeTelegram, bot: Bot) -> Outcome:
    fake.configure_faults(retry_after=1.0, retry_after_seconds=7)
    return await call(bot, PARENT, "sendMessage", {"text": "hello"})


@scenario("unauthorized")
async def _unauthorized(fake: FakeTelegram, bot: Bot) -> Outcome:
    fake.revoke_token()
    return await call(bot, PARENT, "sendMessage", {"text": "hello"})


@scenario("unauthorized_malformed")
async def _unauthorized_malformed(fake: FakeTelegram, bot: Bot) -> Outcome:
    return await refused(Bot("not-a-token", base_url=fake.base_url).get_me())


async def _parked_poll(bot: Bot) -> asyncio.Task[Any]:
    poll = asyncio.create_task(bot.get_updates(timeout=5, read_timeout=10))
    await asyncio.sleep(0.2)  # parked on the server
    return poll


@scenario("conflict_other_poll")
async def _conflict_other_poll(fake: FakeTelegram, bot: Bot) -> Outcome:
    first = await _parked_poll(bot)
    async with Bot(fake.token, base_url=fake.base_url) as instance:  # a second instance
        # Only a poll that parks ends a parked one (Client.cpp do_get_updates).
        second = asyncio.ensure_future(instance.get_updates(timeout=1))
        outcome = await refused(first)
        await second
    return outcome


@scenario("conflict_webhook_active")
async def _conflict_webhook_active(fake: FakeTelegram, bot: Bot) -> Outcome:
    await bot.set_webhook("https://line.example.org/telegram/webhook")
    return await refused(bot.get_updates(timeout=0))


@scenario("conflict_set_webhook")
async def _conflict_set_webhook(fake: FakeTelegram, bot: Bot) -> Outcome:
    poll = await _parked_poll(bot)
    await bot.set_webhook("https://line.example.org/telegram/webhook")
    return await refused(poll)


@scenario("webhook_invalid_url")
async def _webhook_invalid_url(fake: FakeTelegram, bot: Bot) -> Outcome:
    return await refused(bot.set_webhook("ftp://line.example.org/hook"))


@scenario("webhook_https_required")
async def _webhook_https_required(fake: FakeTelegram, bot: Bot) -> Outcome:
    fake.world.webhook_rules = "official"
    return await refused(bot.set_webhook("http://line.example.org/telegram/webhook"))


# -- the table ------------------------------------------------------------------------------


@pytest.fixture
async def bot(fake_tg: FakeTelegram) -> AsyncIterator[Bot]:
    fake_tg.create_user(PARENT, "Maria")
    async with Bot(fake_tg.token, base_url=fake_tg.base_url) as client:
        yield client


def test_every_row_has_a_scenario_and_a_source() -> None:
    assert [r["id"] for r in ROWS] == list(SCENARIOS)
    for row in ROWS:
        assert row["source"] and row["verdict"] in {"sent", "retry", "gone", "dead", "migrated",
                                                   "late"}


@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
async def test_the_real_error_and_how_the_line_reads_it(
    row: dict[str, Any], fake_tg: FakeTelegram, bot: Bot
) -> None:
    outcome = await SCENARIOS[row["id"]](fake_tg, bot)

    answers = [r.error for r in fake_tg.requests_log if r.error is not None]
    assert answers, "the fake refused nothing"
    assert answers[-1] == {
        "ok": False,
        "error_code": row["status"],
        "description": row["description"],
        **({"parameters": row["parameters"]} if row.get("parameters") else {}),
    }
    assert outcome.verdict == row["verdict"], outcome
    if "retry_after" in row:
        assert outcome.retry_after == row["retry_after"]
    if row["verdict"] == "migrated":
        assert outcome.migrate_to == row["parameters"]["migrate_to_chat_id"]
