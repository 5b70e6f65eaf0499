"""The roster in real headless Chromium: a coordinator changes it with the page's own forms.

They add a specialist, tick experience tags and lower a cap, pause someone on duty, and
remove a specialist who is talking with a parent: the parent is told another peer is
coming and is back at the front of the queue, which the queue page then shows.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.app.runtime import LineRuntime
from bot.telegram.outgoing import add_actions
from bot.web.dashboard.login import issue_login
from bot.web.extensions import default_extenders
from core.config import Settings
from core.context import Ctx
from core.storage.models import AuditEntry, Conversation, Parent, Staff
from fake_telegram import FakeTelegram
from handoff import roster

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).parents[2]
SHOTS = Path(tempfile.gettempdir()) / "parentline-screenshots"
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
PARENT = 7401
TAG = sorted(roster.known_experience())[0]

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
    for uid in (COORD, 601, PARENT):
        fake_tg.create_user(uid, f"User{uid}")
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




async def sam_talking_with_a_parent(rt: LineRuntime) -> int:
    now = datetime.now(UTC)
    async with rt.db.tx() as s:
        parent = Parent(pseudonym="R0ST", tg_user_id=PARENT, chat_id=PARENT, lang="en",
                        created_at=now, last_seen_at=now)
        s.add(parent)
        await s.flush()
        conv = Conversation(parent_id=parent.id, status="active", priority="normal",
                            lang="en", queued_at=now - timedelta(minutes=9),
                            claimed_at=now - timedelta(minutes=8), specialist_id=601)
        s.add(conv)
        await s.flush()
        return conv.id


async def test_a_coordinator_changes_the_roster_in_the_browser(
    line: LineRuntime, fake_tg: FakeTelegram, page: Any
) -> None:
    conv_id = await sam_talking_with_a_parent(line)
    await page.goto(await get_link(line, fake_tg, COORD))
    await page.click("nav >> text=Roster")
    await page.locator("#roster").wait_for()
    sam = page.locator('#roster tr[data-staff="601"]')
    assert "on duty" in await sam.inner_text()

    # add someone, with an experience tag
    add = page.locator("#add form")
    await add.locator('input[name="tg_user_id"]').fill("602")
    await add.locator('input[name="name"]').fill("Robin")
    await add.locator('input[name="languages"]').fill("es, en")
    await add.locator('input[name="max_active"]').fill("2")
    await add.locator(f'input[name="experience"][value="{TAG}"]').check()
    await add.locator("button[type=submit]").click()
    assert "Added to the roster" in await page.locator("#notice").inner_text()
    assert "Robin" in await page.locator('#roster tr[data-staff="602"]').inner_text()

    # Sam: a lower cap and a tag
    await sam.locator('input[name="max_active"]').fill("1")
    await sam.locator(f'input[name="experience"][value="{TAG}"]').check()
    await sam.locator("form.update button").click()
    assert await page.locator("#notice").inner_text() == "Saved."
    assert "1 / 1" in await sam.inner_text()  # one parent in hand, cap one

    # pause Sam, who is on duty
    await sam.locator("button.pause").click()
    assert "Paused" in await page.locator("#notice").inner_text()
    assert await sam.locator("button.pause").inner_text() == "Resume"
    await fake_tg.wait_for_message(601, "A coordinator paused you", timeout=10)
    await page.screenshot(path=str(SHOTS / "dashboard-roster.png"), full_page=True)

    # remove Sam mid-conversation: the browser makes us tick the box first
    await sam.locator("form.remove button").click()
    assert await sam.count() == 1  # not sent: still here, and the notice is the last one
    assert "Paused" in await page.locator("#notice").inner_text()
    await sam.locator('input[name="confirm"]').check()
    await sam.locator("form.remove button").click()
    assert "Removed" in await page.locator("#notice").inner_text()
    assert await page.locator('#roster tr[data-staff="601"]').count() == 0
    told = await fake_tg.wait_for_message(PARENT, "Your peer had to step away", timeout=10)
    assert "number 1" in told["text"]
    await fake_tg.wait_for_message(601, "taken you off the line's roster", timeout=10)

    # the queue page shows the parent back at the front
    await page.click("nav >> text=Queue")
    row = page.locator('#queue tr[data-pseudonym="R0ST"]')
    assert "back at front" in await row.inner_text()

    async with line.db.read() as s:
        assert await s.get(Staff, 601) is None
        robin = await s.get(Staff, 602)
        conv = await s.get(Conversation, conv_id)
        actions = [a for a in (await s.scalars(
            select(AuditEntry.action).order_by(AuditEntry.id))).all() if a.startswith("roster_")]
    assert robin is not None and (robin.languages, robin.max_active, robin.experience) == (
        ["es", "en"], 2, [TAG])
    assert conv is not None and (conv.status, conv.front_of_queue) == ("queued", True)
    assert actions == ["roster_add", "roster_update", "roster_pause", "roster_remove"]
