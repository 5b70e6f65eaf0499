"""The dashboard in real headless Chromium: sign in with the Telegram link, watch the queue.

A coordinator opens the one-time link from the bot, lands on the queue, and a parent who
starts waiting afterwards appears without reloading the page (the live fragment).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app.runtime import LineRuntime
from bot.telegram.outgoing import add_actions
from bot.web.dashboard.auth import COOKIE_NAME
from bot.web.dashboard.login import issue_login
from bot.web.extensions import default_extenders
from core.config import Settings
from core.context import Ctx
from core.storage.models import Conversation, DailyStat, Parent, Staff
from fake_telegram import FakeTelegram
from handoff import roster

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).parents[2]
# Screenshots for the README are refreshed only when asked (PARENTLINE_SCREENSHOTS=1), so
# running the tests leaves the working tree clean.
SHOTS = (
    ROOT / "docs" / "screenshots"
    if os.environ.get("PARENTLINE_SCREENSHOTS")
    else Path(tempfile.gettempdir()) / "parentline-screenshots"
)
SHOTS.mkdir(parents=True, exist_ok=True)
DISPATCH = ROOT / "bot" / "app" / "staff_router.py"  # where /dashboard is routed
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-proxy-server",
]
LINK = re.compile(r"(http://\S+/dashboard/login\?token=[\w\-%]+)")
COORD = 600

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)",
    ),
]


@pytest.fixture
async def line(fake_tg: FakeTelegram, tmp_path: Path) -> AsyncIterator[LineRuntime]:
    settings = Settings(
        _env_file=None,
        telegram_token=fake_tg.token,
        telegram_api_url=fake_tg.api_root,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'line.db'}",
        web_host="127.0.0.1",
        web_port=0,
        ops_port=0,
        webhook_url="",
        public_url="",
        demo=True,
    )
    rt = LineRuntime(settings, web_extenders=default_extenders())
    await rt.start()
    settings.public_url = f"http://127.0.0.1:{rt.web_port}"
    now = datetime.now(UTC)
    async with rt.db.tx() as s:
        await roster.add_staff(s, COORD, "Casey", "coordinator", ["en"], 3, [], now)
        await roster.add_staff(s, 601, "Sam", "specialist", ["en", "es"], 3, [], now)
        sam = await s.get(Staff, 601)
        assert sam is not None
        sam.on_duty, sam.duty_started_at = True, now - timedelta(minutes=50)
    try:
        yield rt
    finally:
        await rt.stop()


@pytest.fixture
async def page() -> AsyncIterator[Any]:
    pw = pytest.importorskip("playwright.async_api", reason="pip install playwright")
    async with pw.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        context = await browser.new_context(viewport={"width": 1200, "height": 900})
        pg = await context.new_page()
        pg.set_default_timeout(15_000)
        try:
            yield pg
        finally:
            await browser.close()


async def get_link(rt: LineRuntime, fake: FakeTelegram, staff_id: int) -> str:
    """The link the bot sends for /dashboard (issue_login directly until dispatch wires it)."""
    if "issue_login" in DISPATCH.read_text(encoding="utf-8"):
        fake.user_sends(staff_id, "/dashboard")
    else:
        now = datetime.now(UTC)
        async with rt.db.tx() as s:
            staff = await s.get(Staff, staff_id)
            assert staff is not None
            ctx = Ctx(session=s, now=now, settings=rt.settings, content=rt.content.current)
            await issue_login(ctx, staff)
            await add_actions(s, ctx.actions, now)
        rt.sender.wake.set()
    msg = await fake.wait_for_message(staff_id, "/dashboard/login?token=", timeout=10)
    found = LINK.search(msg["text"])
    assert found, msg["text"]
    return found.group(1)


async def queue_parent(
    rt: LineRuntime,
    pseudonym: str,
    user_id: int,
    *,
    crisis: bool = False,
    minutes_ago: int = 3,
    topic: str | None = "sleep",
) -> None:
    now = datetime.now(UTC)
    async with rt.db.tx() as s:
        parent = Parent(
            pseudonym=pseudonym,
            tg_user_id=user_id,
            chat_id=user_id,
            lang="en",
            created_at=now,
            last_seen_at=now,
        )
        s.add(parent)
        await s.flush()
        s.add(
            Conversation(
                parent_id=parent.id,
                status="queued",
                lang="en",
                topic=topic,
                priority="crisis" if crisis else "normal",
                crisis=crisis,
                queued_at=now - timedelta(minutes=minutes_ago),
            )
        )


async def seed_month(rt: LineRuntime) -> None:
    """Thirty days of plausible numbers, so the charts in the screenshot have a shape."""
    now = datetime.now(UTC)
    today = now.date()
    async with rt.db.tx() as s:
        for i in range(30):
            day = today - timedelta(days=i)
            wave = (i * 7) % 11
            for metric, value in (
                ("conversations_requested", 6 + wave),
                ("handoffs", 5 + wave // 2),
                ("crisis_escalations", i % 4 == 0),
                ("after_hours_messages", wave % 4),
                ("resources_shared", 9 + wave),
                ("surveys", 2 + wave // 3),
                ("topic:sleep", 2 + wave // 4),
                ("topic:tantrums", 1 + i % 3),
            ):
                s.add(DailyStat(day=day, metric=metric, value=int(value)))
        parent = Parent(
            pseudonym="HIST",
            tg_user_id=7399,
            chat_id=7399,
            lang="en",
            created_at=now,
            last_seen_at=now,
        )
        s.add(parent)
        await s.flush()
        for i in range(60):
            queued = now - timedelta(days=i % 30, hours=1)
            s.add(
                Conversation(
                    parent_id=parent.id,
                    status="ended",
                    lang="en",
                    queued_at=queued,
                    claimed_at=queued + timedelta(minutes=2 + (i * 5) % 17),
                    ended_at=queued + timedelta(minutes=40),
                    survey_heard=3 + i % 3,
                    survey_helpful=2 + i % 4,
                )
            )


async def test_sign_in_with_the_link_and_see_a_parent_join_the_queue_live(
    line: LineRuntime, fake_tg: FakeTelegram, page: Any
) -> None:
    base = f"http://127.0.0.1:{line.web_port}"
    await page.goto(base + "/dashboard")
    assert "Send /dashboard" in await page.locator("#signed-out").inner_text()

    link = await get_link(line, fake_tg, COORD)
    await page.goto(link)
    assert page.url == base + "/dashboard"
    await page.locator("#queue-empty").wait_for()
    cookies = {c["name"]: c for c in await page.context.cookies()}
    assert cookies[COOKIE_NAME]["httpOnly"] and cookies[COOKIE_NAME]["sameSite"] == "Lax"
    assert not await page.evaluate("document.cookie")  # HttpOnly: scripts can't read it

    await queue_parent(line, "Q7RX", 7301)
    await queue_parent(line, "C4SE", 7302, crisis=True, minutes_ago=1, topic=None)
    # no reload: the page's live fragment picks the parents up
    await page.locator('#queue tr[data-pseudonym="Q7RX"]').wait_for()
    await page.locator('#queue tr[data-pseudonym="C4SE"].crisis').wait_for()
    rows = await page.locator("#queue tbody tr").all_inner_texts()
    assert rows[0].split()[:2] == ["1", "C4SE"]  # crisis first
    assert "Sam" in await page.locator("#duty").inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "dashboard.png"), full_page=True)

    await seed_month(line)
    await page.click("text=Statistics")
    await page.locator("#window figure.chart").first.wait_for()
    assert await page.locator("#window figure.chart").count() >= 8
    await page.screenshot(path=str(SHOTS / "dashboard-stats.png"), full_page=True)

    # the link was single use
    await page.context.clear_cookies()
    response = await page.goto(link)
    assert response is not None and response.status == 403
