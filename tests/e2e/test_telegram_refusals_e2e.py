"""Telegram as it really is: refusals the real Bot API gives, and a line that survives them.

Each test drives the real line (python-telegram-bot over HTTP) against ``fake_telegram``,
which answers with the real server's error codes and descriptions.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from conftest import Line, Person, line_settings
from sqlalchemy import select

from bot.app.runtime import LineRuntime
from core.config import Settings, SettingsError, webhook_problem
from core.storage.models import Conversation, Parent, Staff
from fake_telegram import FakeTelegram


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """A specialist's 403 moves conversations between people: both databases."""
    return str(request.param)


def t(line: Line, key: str, lang: str = "en") -> str:
    return line.runtime.content.current.text(key, lang)


async def duty(line: Line, uid: int, name: str, **kw: object) -> Person:
    peer = await line.specialist(uid, name, **kw)  # type: ignore[arg-type]
    peer.says("/onduty")
    await peer.reads("on duty")
    return peer


async def conv_of(line: Line, tg_id: int) -> Conversation:
    async with line.runtime.db.read() as s:
        p = (await s.scalars(select(Parent).where(Parent.tg_user_id == tg_id))).one()
        return (await s.scalars(select(Conversation).where(Conversation.parent_id == p.id)
                                .order_by(Conversation.id.desc()))).one()


async def staff_row(line: Line, uid: int) -> Staff:
    async with line.runtime.db.read() as s:
        staff = await s.get(Staff, uid)
        assert staff is not None
        return staff


async def test_a_deactivated_specialist_is_taken_off_duty_and_the_parent_rematched(
        line: Line) -> None:
    ana = await duty(line, 7301, "Ana")
    cora = await line.specialist(7303, "Cora", role="coordinator")
    cora.says("/help")
    await cora.reads()
    parent = line.parent(931)
    await parent.talks()
    await parent.reads("in line")
    ana.says("/next")
    await parent.reads("Ana")
    ben = await duty(line, 7302, "Ben")

    line.fake.user_deactivates(ana.id)  # no update arrives: only the next send says 403
    parent.says("are you still there?")

    await parent.reads(t(line, "handoff.peer_unreachable")[:40])
    await ben.reads("would like to talk")
    await cora.reads("can't deliver to Ana")
    conv = await conv_of(line, parent.id)
    assert conv.status == "queued" and conv.front_of_queue and conv.specialist_id is None
    staff = await staff_row(line, ana.id)
    assert not staff.on_duty and staff.unreachable_at is not None
    refused = [r for r in line.fake.requests() if r.chat_id == ana.id and r.status == 403]
    assert refused, "the fake must have refused the relay with 403"

    await ben.press("Take")
    await parent.reads("Ben")


async def test_a_crisis_never_stays_with_a_specialist_who_blocked_the_bot(line: Line) -> None:
    ana = await duty(line, 7311, "Ana")
    ben = await duty(line, 7312, "Ben")
    parent = line.parent(932)
    await parent.talks()
    await parent.reads("in line")
    ana.says("/next")
    await parent.reads("Ana")
    await ben.reads("would like to talk")  # the first alert, before Ana took it

    line.fake.user_blocks_bot(ana.id)
    parent.says("i want to kill myself")

    await parent.reads(t(line, "crisis.suicide")[:30])
    await ben.reads("CRISIS")
    await ben.press("Take")
    await parent.reads("Ben")
    conv = await conv_of(line, parent.id)
    assert conv.status == "active" and conv.specialist_id == ben.id and conv.crisis


async def test_a_crisis_with_nobody_else_on_duty_reaches_the_coordinators_at_once(
        line: Line) -> None:
    ana = await duty(line, 7321, "Ana")
    cora = await line.specialist(7323, "Cora", role="coordinator")
    cora.says("/help")
    await cora.reads()
    parent = line.parent(933)
    await parent.talks()
    await parent.reads("in line")
    ana.says("/next")
    await parent.reads("Ana")

    line.fake.user_deactivates(ana.id)
    parent.says("i want to kill myself")

    await parent.reads(t(line, "crisis.suicide")[:30])
    await cora.reads("CRISIS")
    await cora.reads("can't deliver to Ana")
    conv = await conv_of(line, parent.id)
    assert conv.status == "queued" and conv.front_of_queue


async def test_a_specialist_who_never_pressed_start_is_skipped_after_the_first_refusal(
        line: Line) -> None:
    """A coordinator added to the roster who never opened the bot: the first notice is
    refused with Telegram's 403, and the line stops trying to reach them."""
    cora = await line.specialist(7333, "Cora", role="coordinator")
    line.fake.create_user(cora.id, "Staff7333", started=False)
    dan = await line.specialist(7334, "Dan", role="coordinator")
    dan.says("/help")
    await dan.reads()
    ana = await duty(line, 7331, "Ana")
    parent = line.parent(934)
    await parent.talks()
    await parent.reads("in line")
    ana.says("/next")
    await parent.reads("Ana")
    line.fake.user_deactivates(ana.id)
    parent.says("hello?")
    await dan.reads("can't deliver to Ana")
    # Cora was told too, and refused: "bot can't initiate conversation with a user".
    await line.fake.wait_until(lambda: any(
        r.chat_id == cora.id and r.status == 403 for r in line.fake.requests()), 10)
    async def cora_marked() -> bool:
        return (await staff_row(line, cora.id)).unreachable_at is not None
    for _ in range(100):
        if await cora_marked():
            break
        await line.fake.world.wait_changed(0.1)
    assert await cora_marked()
    # She writes to the bot at last: reachable again.
    cora.says("/help")
    await cora.reads()
    assert (await staff_row(line, cora.id)).unreachable_at is None


# --- setWebhook refused -------------------------------------------------------------------


async def test_a_webhook_telegram_refuses_stops_start_up_with_one_sentence(
        fake_tg: FakeTelegram, tmp_path: Path) -> None:
    """On Telegram's own server an http URL is refused with 400: once said, never retried
    (python-telegram-bot files BadRequest under NetworkError, so it used to loop)."""
    fake_tg.world.webhook_rules = "official"
    settings = line_settings(fake_tg, tmp_path / "wh.db", webhook_url="http://127.0.0.1:9/x",
                             webhook_secret="s3cret", web_port=0)
    runtime = LineRuntime(settings)
    try:
        with pytest.raises(SettingsError) as refused:
            async with asyncio.timeout(20):
                await runtime.start()
        (problem,) = refused.value.problems  # python-telegram-bot re-cases the description
        assert problem.lower() == ("telegram refused setwebhook: bad webhook: "
                                   "an https url must be provided for webhook")
        assert len(fake_tg.requests("setWebhook")) == 1
    finally:
        await runtime.stop()


@pytest.mark.parametrize("secret", ["has space", "x" * 257, "ünïcode"])
async def test_a_webhook_secret_telegram_would_refuse_stops_start_up(
        fake_tg: FakeTelegram, tmp_path: Path, secret: str) -> None:
    settings = line_settings(fake_tg, tmp_path / "wh.db", webhook_url="http://127.0.0.1:9/x",
                             webhook_secret=secret, web_port=0)
    with pytest.raises(SettingsError) as refused:
        LineRuntime(settings)
    assert "PARENTLINE_WEBHOOK_SECRET" in refused.value.problems[0]
    assert not fake_tg.requests("setWebhook")
    # ...and the fake refuses it as Telegram does, had the line sent it.
    answer = await raw_call(fake_tg, "setWebhook", {"url": "https://example.org/h",
                                                    "secret_token": secret})
    assert answer["error_code"] == 400
    assert answer["description"] in (
        "Bad Request: secret token is too long",
        "Bad Request: secret token contains unallowed characters")


async def raw_call(fake: FakeTelegram, method: str, params: dict[str, Any]) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.post(
            f"{fake.base_url}{fake.token}/{method}", json=params) as r:
        body: dict[str, Any] = await r.json()
        return body


def test_the_official_server_rules_for_webhook_urls() -> None:
    base = {"telegram_token": "1:x", "secret_key": "k" * 32,
            "telegram_api_url": "https://api.telegram.org"}
    assert webhook_problem(Settings(**base, webhook_url="https://line.example.org")) is None
    assert webhook_problem(Settings(**base, webhook_url="https://line.example.org:8443")) is None
    assert "https" in (webhook_problem(Settings(**base, webhook_url="http://x.org")) or "")
    assert "port" in (webhook_problem(Settings(**base, webhook_url="https://x.org:8080")) or "")


# --- polling and a live webhook -------------------------------------------------------------


async def test_polling_refuses_to_delete_a_live_webhook_unless_told(
        fake_tg: FakeTelegram, tmp_path: Path) -> None:
    answer = await raw_call(fake_tg, "setWebhook", {"url": "https://prod.example.org/hook"})
    assert answer["ok"]
    runtime = LineRuntime(line_settings(fake_tg, tmp_path / "p.db"), serve_web=False)
    try:
        with pytest.raises(SettingsError) as refused:
            await runtime.start()
        assert "--take-over-webhook" in refused.value.problems[0]
        assert fake_tg.world.webhook.url == "https://prod.example.org/hook"
        assert not fake_tg.requests("deleteWebhook")
    finally:
        await runtime.stop()
    told = LineRuntime(line_settings(fake_tg, tmp_path / "p.db", take_over_webhook=True),
                       serve_web=False)
    await told.start()
    try:
        assert fake_tg.world.webhook.url == ""
    finally:
        await told.stop()
