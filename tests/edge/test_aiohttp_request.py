"""python-telegram-bot over our aiohttp transport, against the fake Bot API over HTTP.

Every end-to-end test already sends through this transport; these cover what the line's
own traffic does not: file uploads (multipart), how network failures and Telegram's
answers become PTB's exceptions (which decide retry, gone or dead), and proxies.
"""

from __future__ import annotations

import asyncio

import pytest
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from bot.telegram import aiohttp_request
from bot.telegram.aiohttp_request import AiohttpRequest
from bot.telegram.client import build_application, call
from fake_telegram import FakeTelegram

USER = 4242


async def test_messages_and_uploads_arrive_intact(fake_tg: FakeTelegram) -> None:
    fake_tg.create_user(USER)
    app = build_application(fake_tg.token, fake_tg.base_url)
    await app.initialize()
    try:
        sent = await call(app.bot, USER, "sendMessage", {
            "text": "Olá — ¿qué tal? & = + %", "buttons": [[{"t": "Sí", "d": "h|x|sig"}]]})
        assert sent.verdict == "sent"
        doc = await app.bot.send_document(USER, document=b"line one\nline two",
                                          filename="plan.txt", caption="your plan")
        assert doc.document is not None
    finally:
        await app.shutdown()
    texts = fake_tg.messages_to(USER)
    assert texts[0]["text"] == "Olá — ¿qué tal? & = + %"
    assert texts[0]["buttons"] == [[{"text": "Sí", "callback_data": "h|x|sig"}]]
    assert texts[1]["text"] == "your plan" and texts[1]["kind"] == "document"


async def test_telegram_errors_become_ptb_exceptions(fake_tg: FakeTelegram) -> None:
    fake_tg.create_user(USER)
    app = build_application(fake_tg.token, fake_tg.base_url)
    await app.initialize()
    try:
        with pytest.raises(BadRequest):
            await app.bot.delete_message(USER, 987654)
        fake_tg.faults.configure(retry_after=1.0, retry_after_seconds=7)
        with pytest.raises(RetryAfter):
            await app.bot.send_message(USER, "hello")
        assert (await call(app.bot, USER, "sendMessage", {"text": "x"})).retry_after == 7
    finally:
        await app.shutdown()


async def test_network_failures_are_network_errors() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)  # accepts, reads nothing, answers nothing
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    request = AiohttpRequest(connect_timeout=1, read_timeout=1)
    await request.initialize()
    try:
        # Nothing listens on port 9 (discard) here: the connection is refused.
        with pytest.raises(NetworkError):
            await request.post("http://127.0.0.1:9/botX/getMe")
        with pytest.raises(TimedOut):
            await request.post(f"http://127.0.0.1:{port}/botX/getMe", read_timeout=0.3)
    finally:
        await request.shutdown()
        server.close()
    with pytest.raises(NetworkError, match="not initialized"):
        await request.post("http://127.0.0.1:9/botX/getMe")


def test_proxies_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    aiohttp_request._host_proxy.cache_clear()
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    try:
        assert aiohttp_request._proxy_for("https://api.telegram.org/bot1/getMe") == (
            "http://proxy.example:3128")
        assert aiohttp_request._proxy_for("http://127.0.0.1:8081/bot1/getMe") is None
    finally:
        aiohttp_request._host_proxy.cache_clear()
