"""End-to-end harness: the real line (python-telegram-bot over HTTP) against the fake Bot API.

A test says what people do (`parent.says("hi")`, `await parent.press("Talk")`) and what
they read (`await parent.reads("peer")`); everything between goes through the real
polling loop, inbox, pipeline, outbox and sender, on a real SQLite file.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.app.runtime import LineRuntime
from core.config import Settings
from core.storage.db import Database
from fake_telegram import FakeTelegram
from handoff import roster

PG_URL = os.environ.get("PARENTLINE_TEST_POSTGRES_URL", "")


class Person:
    """Someone with Telegram open: types, presses buttons, reads what the bot sent."""

    def __init__(self, fake: FakeTelegram, user_id: int,
                 card_send: frozenset[str] = frozenset()) -> None:
        self.fake = fake
        self.id = user_id
        self.card_send = card_send  # the handoff card's "send" label, in each language

    def says(self, text: str, **kw: Any) -> dict[str, Any]:
        return self.fake.user_sends(self.id, text, **kw)

    def sends_media(self, kind: str, caption: str | None = None) -> dict[str, Any]:
        return self.fake.user_sends_media(self.id, kind, caption=caption)

    async def reads(self, needle: str | None = None, timeout: float = 10.0) -> dict[str, Any]:
        """The next bot message (containing ``needle``), in transcript order."""
        return await self.fake.wait_for_message(self.id, needle, timeout=timeout)

    async def saw(self, needle: str, timeout: float = 10.0) -> None:
        """Wait until any message so far contains ``needle`` (the cursor does not move)."""
        try:
            await self.fake.wait_until(lambda: any(needle in t for t in self.texts()), timeout)
        except TimeoutError:
            raise AssertionError(f"never saw {needle!r}; the bot sent {self.texts()!r}") from None

    def texts(self) -> list[str]:
        return self.fake.texts_to(self.id)

    def last_with_buttons(self) -> dict[str, Any]:
        for msg in reversed(self.fake.messages_to(self.id)):
            if msg["buttons"] and not msg["deleted"]:
                return msg
        raise AssertionError(f"no message with buttons; the bot sent {self.texts()!r}")

    def button_labels(self) -> list[str]:
        return [b["text"] for row in self.last_with_buttons()["buttons"] for b in row]

    async def talks(self, note: str = "") -> None:
        """/talk, then send the handoff card as it is, as a parent in a hurry would."""
        self.says(f"/talk {note}".strip())
        card = await self.fake.wait_for_message(
            self.id, lambda m: any(b["text"] in self.card_send
                                   for row in m["buttons"] or [] for b in row))
        [data] = [b["callback_data"] for row in card["buttons"] for b in row
                  if b["text"] in self.card_send]
        self.fake.user_presses(self.id, card["message_id"], data)

    async def press(self, label_part: str, timeout: float = 10.0) -> None:
        """Press the newest button whose label contains ``label_part`` (case-insensitive),
        waiting for it to arrive if the bot has not sent it yet."""
        def newest() -> tuple[int, str] | None:
            for msg in reversed(self.fake.messages_to(self.id)):
                for row in msg["buttons"] or []:
                    for b in row:
                        if label_part.lower() in b["text"].lower() and b.get("callback_data"):
                            return msg["message_id"], b["callback_data"]
            return None

        try:
            await self.fake.wait_until(lambda: newest() is not None, timeout)
        except TimeoutError:
            raise AssertionError(
                f"no button like {label_part!r}; the bot sent {self.texts()!r}") from None
        found = newest()
        assert found is not None
        self.fake.user_presses(self.id, *found)


def line_settings(fake: FakeTelegram, db_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "telegram_token": fake.token,
        "telegram_api_url": fake.api_root,
        "database_url": f"sqlite+aiosqlite:///{db_path}",
        "web_port": 0,
        "ops_port": 0,
        "secret_key": "test-secret",
        "webhook_url": "",
        "staff_chat_id": None,
    }
    values.update(overrides)
    return Settings(**values)


class Line:
    """The running bot plus the fake Telegram world around it."""

    def __init__(self, fake: FakeTelegram, runtime: LineRuntime) -> None:
        self.fake = fake
        self.runtime = runtime

    def parent(self, user_id: int, lang: str = "en") -> Person:
        self.fake.create_user(user_id, f"Parent{user_id}", language_code=lang,
                              username=f"parent{user_id}")
        content = self.runtime.content.current
        send = frozenset(content.text("parent.buttons.card_send", x) for x in content.languages)
        return Person(self.fake, user_id, send)

    async def specialist(self, user_id: int, name: str = "Alex", *, role: str = "specialist",
                         languages: tuple[str, ...] = ("en",), max_active: int = 3,
                         experience: tuple[str, ...] = ()) -> Person:
        self.fake.create_user(user_id, f"Staff{user_id}", language_code=languages[0])
        async with self.runtime.db.tx() as s:
            await roster.add_staff(s, user_id, name, role, list(languages), max_active,
                                   list(experience), datetime.now(UTC))
        return Person(self.fake, user_id)


@pytest.fixture
def backend() -> str:
    """The database under the line. A module that overrides this with a parametrized
    fixture (``sqlite`` and ``postgres``) runs each of its tests on both."""
    return "sqlite"


@pytest.fixture
def line_overrides() -> dict[str, Any]:
    """Settings for the ``line`` fixture beyond :func:`line_settings`' defaults, e.g.
    ``{"staff_chat_id": -5001}``; a module overrides this fixture to set them."""
    return {}


@pytest.fixture
def line_serves_web() -> bool:
    """Whether the ``line`` fixture serves the web and ops apps (/readyz, /metrics on
    ``runtime.ops_port``); a module overrides this fixture to turn it on."""
    return False


@pytest.fixture
async def line(fake_tg: FakeTelegram, tmp_path: Path, backend: str,
               line_overrides: dict[str, Any], line_serves_web: bool) -> AsyncIterator[Line]:
    db: Database | None = None
    if backend == "postgres":
        if not PG_URL:
            pytest.skip("PARENTLINE_TEST_POSTGRES_URL is not set (.ci/run sets it)")
        db = Database(PG_URL, schema=f"e2e_{uuid.uuid4().hex[:10]}")
    runtime = LineRuntime(line_settings(fake_tg, tmp_path / "line.db", **line_overrides), db=db,
                          serve_web=line_serves_web)
    await runtime.start()
    running = Line(fake_tg, runtime)
    try:
        yield running
    finally:
        await running.runtime.stop()  # a test may have restarted it
        if db is not None:
            await db.drop_schema()
            await db.dispose()
