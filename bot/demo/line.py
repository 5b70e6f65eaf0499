"""Start and stop a complete demo line: fake Telegram, the real runtime, a peer on duty.

Used by ``parentline demo`` and by the browser tests, so what the tests walk through is
exactly what a visitor sees. Everything lives in a temporary folder that is removed on
stop; nothing is sent to Telegram. Local resources come from the example region's
fictional entries; the national hotlines shown are the real ones.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bot.app.runtime import LineRuntime
from bot.web.dashboard.login import create_token, login_url
from bot.web.extensions import default_extenders
from core.config import DEFAULT_CONTENT_DIR, Settings
from core.storage.db import Database
from core.storage.migrate import upgrade
from fake_telegram import FakeTelegram
from handoff import roster

log = logging.getLogger(__name__)

DEMO_TOKEN = "demo:token"
PARENT_ID = 1001
SPECIALIST_ID = 9001
COORDINATOR_ID = 9002
SPECIALIST_NAME = "Sam (demo peer)"
COORDINATOR_NAME = "Casey (demo coordinator)"


class DemoLine:
    """One running demo; ``await start()``, then ``await stop()``."""

    def __init__(self, port: int = 8080, *, content_dir: Path = DEFAULT_CONTENT_DIR,
                 host: str = "127.0.0.1") -> None:
        self.port = port
        self.host = host
        self.content_dir = content_dir
        self.fake = FakeTelegram(token=DEMO_TOKEN, bot_username="parentline_demo_bot",
                                 bot_name="ParentLine (demo)")
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.runtime: LineRuntime | None = None
        self.onduty_confirmed = False

    @property
    def url(self) -> str:
        port = self.runtime.web_port if self.runtime and self.runtime.web_port else self.port
        return f"http://{self.host}:{port}"

    async def start(self) -> None:
        from bot.demo.page import add_demo_page  # the page needs this class: import late

        self._tmp = tempfile.TemporaryDirectory(prefix="parentline-demo-")
        await self.fake.start()
        self.fake.create_user(PARENT_ID, "Alex", language_code="en", username="demo_parent")
        self.fake.create_user(SPECIALIST_ID, "Sam", language_code="en", username="demo_peer")
        self.fake.create_user(COORDINATOR_ID, "Casey", language_code="en",
                              username="demo_coordinator")
        settings = Settings(
            _env_file=None,  # a production .env must never leak into the demo
            telegram_token=DEMO_TOKEN,
            telegram_api_url=self.fake.api_root,
            database_url=f"sqlite+aiosqlite:///{Path(self._tmp.name) / 'demo.db'}",
            content_dir=self.content_dir,
            demo=True,
            web_host=self.host,
            web_port=self.port,
            ops_port=0,  # the demo has no Prometheus: any free loopback port
            webhook_url="",
            public_url="",
            staff_chat_id=None,
        )
        db = Database(settings.database_url)
        await upgrade(db)
        await self._roster(db)
        self.runtime = LineRuntime(settings, db=db,
                                   web_extenders=[*default_extenders(), add_demo_page(self)])
        await self.runtime.start()
        # With port 0 the real port is known only now; dashboard links must use it.
        settings.public_url = self.url
        await self._go_on_duty()

    async def _roster(self, db: Database) -> None:
        now = datetime.now(UTC)
        async with db.tx() as s:
            await roster.add_staff(s, SPECIALIST_ID, SPECIALIST_NAME, "specialist",
                                   ["en", "es"], 3, ["child-welfare"], now)
            await roster.add_staff(s, COORDINATOR_ID, COORDINATOR_NAME, "coordinator",
                                   ["en", "es"], 3, [], now)

    async def _go_on_duty(self) -> None:
        """The specialist sends /onduty through the fake, so the real duty flow runs."""
        self.fake.user_sends(SPECIALIST_ID, "/onduty")
        try:
            await self.fake.wait_for_message(SPECIALIST_ID, timeout=10)
            self.onduty_confirmed = True
        except TimeoutError:
            log.warning("the demo specialist got no answer to /onduty; the handoff may not "
                        "be available in this build")

    async def dashboard_link(self) -> str:
        """A one-time sign-in link for the demo coordinator (demo only: no Telegram step)."""
        assert self.runtime is not None
        async with self.runtime.db.tx() as s:
            token = await create_token(s, COORDINATOR_ID, datetime.now(UTC))
        return login_url(self.url, token)

    async def stop(self) -> None:
        if self.runtime is not None:
            await self.runtime.stop()
            self.runtime = None
        await self.fake.stop()
        if self._tmp is not None:
            with contextlib.suppress(OSError):
                self._tmp.cleanup()
            self._tmp = None
