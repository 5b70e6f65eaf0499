"""Shared fixtures. Keep each fixture small and documented; add new ones below."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from fake_telegram import FakeTelegram

# httpx (PTB's transport) and aiohttp honour HTTP(S)_PROXY; local servers must bypass it.
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ.setdefault("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
async def fake_tg() -> AsyncIterator[FakeTelegram]:
    """A fresh fake Telegram Bot API server on a free port, stopped after the test.

    ``fake_tg.api_root`` is the PARENTLINE_TELEGRAM_API_URL value,
    ``fake_tg.base_url`` what PTB's ``base_url`` wants, ``fake_tg.token`` the token.
    """
    fake = FakeTelegram()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()
