"""The demo page in real headless Chromium: the whole parent → specialist path, and a crisis.

Driven like a visitor would: press Start, type in the parent's phone, press the inline
buttons, take the conversation in the specialist's phone, reply both ways, /end, answer
the survey. Button labels and texts come from ``content/`` so wording edits don't break
the test, but every step must really happen on the page.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.demo.line import SPECIALIST_NAME, DemoLine
from flows.content import Content, load_content

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
WAIT_MS = 15_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)",
    ),
]


@pytest.fixture
async def demo() -> AsyncIterator[DemoLine]:
    line = DemoLine(port=0)
    await line.start()
    try:
        yield line
    finally:
        await line.stop()


@pytest.fixture
async def page() -> AsyncIterator[Any]:
    pw = pytest.importorskip("playwright.async_api", reason="pip install playwright")
    async with pw.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        context = await browser.new_context(viewport={"width": 1280, "height": 980})
        pg = await context.new_page()
        pg.set_default_timeout(WAIT_MS)
        try:
            yield pg
        finally:
            await browser.close()


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content(ROOT / "content")


def snippet(text: str, n: int = 45) -> str:
    """The start of a text's first line: enough to recognise it, immune to wrapping."""
    return text.strip().split("\n")[0][:n]


async def bot_says(page: Any, pane: str, text: str) -> None:
    await page.locator(f"#{pane} .msg.bot", has_text=snippet(text)).last.wait_for()


async def shows(page: Any, pane: str, text: str) -> None:
    await page.locator(f"#{pane} .msg", has_text=snippet(text)).last.wait_for()


async def press(page: Any, pane: str, label: str) -> None:
    button = page.locator(f"#{pane} .msg.bot button.kb", has_text=label).last
    await button.wait_for()
    await button.click()


async def type_in(page: Any, pane: str, text: str) -> None:
    await page.fill(f"#{pane}-input", text)
    await page.press(f"#{pane}-input", "Enter")


def _common_topic(content: Content) -> tuple[str, str]:
    for topic in content.topics:
        if topic.tone == "common" and topic.next_steps.get("en"):
            return topic.id, topic.title["en"]
    raise AssertionError("content has no common topic with next steps")


async def test_the_whole_path_from_parent_to_specialist_and_back(
    demo: DemoLine, page: Any, content: Content
) -> None:
    t = lambda key, **kw: content.text(key, "en", **kw)  # noqa: E731
    assert demo.onduty_confirmed, "the demo specialist's /onduty got no answer"
    await page.goto(demo.url + "/demo")
    note = await page.locator("#demo-note").inner_text()
    assert "demo" in note.lower() and "fictional" in note.lower()

    # welcome
    await page.click("#parent-start")
    await bot_says(page, "parent", t("parent.welcome"))
    # something on their mind, then ideas and a topic
    await type_in(
        page, "parent", "It has been a really long week and I am worn out at home"
    )
    await bot_says(page, "parent", t("parent.ask_help"))
    await press(page, "parent", t("parent.buttons.ideas"))
    _topic_id, title = _common_topic(content)
    await press(page, "parent", title)
    # a common topic gets the normalizing message
    await bot_says(page, "parent", t("parent.topic.normalize"))
    await type_in(page, "parent", "I am patient with them and I ask for help when I need it")
    await bot_says(page, "parent", t("parent.strengths.thanks"))
    await press(page, "parent", "1")
    await bot_says(page, "parent", t("parent.checkin.offer"))
    await press(page, "parent", t("parent.buttons.no_thanks"))
    # resources
    await press(page, "parent", t("parent.buttons.yes_please"))
    await type_in(page, "parent", "78701")
    await bot_says(page, "parent", t("parent.resources.intro"))
    await bot_says(page, "parent", t("parent.resources.after"))
    pane = await page.locator("#parent .msgs").inner_text()
    assert any(r.name["en"] in pane for r in content.resources), "no resource was shown"

    # talk to a peer; the specialist takes it
    await press(page, "parent", t("parent.buttons.person"))
    await bot_says(page, "parent", snippet(t("parent.card.show", topic="x", line="x",
                                               language="x", experience="x", region="x"), 30))
    await press(page, "parent", t("parent.buttons.card_send"))
    await bot_says(page, "parent", snippet(t("handoff.queued", position=1, minutes=1), 30))
    await press(page, "specialist", t("staff.btn_take"))
    await bot_says(page, "parent", t("handoff.peer_joined", name=SPECIALIST_NAME))

    # relay both ways
    await type_in(page, "specialist", "Hi, I'm Sam. What does bedtime look like at yours?")
    await bot_says(page, "parent", "Hi, I'm Sam. What does bedtime look like at yours?")
    await type_in(page, "parent", "Bedtime is a battle every single night")
    await bot_says(page, "specialist", "Bedtime is a battle every single night")
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "demo.png"))

    # end and survey
    await type_in(page, "specialist", "/end")
    await bot_says(page, "parent", t("handoff.ended_thanks"))
    await bot_says(page, "parent", t("handoff.survey_heard"))
    await press(page, "parent", "5")
    await bot_says(page, "parent", t("handoff.survey_helpful"))
    await press(page, "parent", "4")
    await bot_says(page, "parent", t("handoff.survey_thanks"))


async def test_a_crisis_message_shows_the_crisis_response(
    demo: DemoLine, page: Any, content: Content
) -> None:
    await page.goto(demo.url + "/demo")
    await page.click("#parent-start")
    await bot_says(page, "parent", content.text("parent.welcome", "en"))
    await type_in(page, "parent", "I can't do this anymore, I want to kill myself")
    await bot_says(page, "parent", content.text("crisis.suicide", "en"))
    text = await page.locator("#parent .msgs").inner_text()
    assert "988" in text  # the 24/7 line is in the reply itself
    await bot_says(page, "parent", content.text("handoff.crisis_queued", "en"))


async def test_the_demo_page_has_the_dashboards_csp_and_opens_only_https_and_tg_links(
    demo: DemoLine, page: Any
) -> None:
    from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

    from bot.demo.line import PARENT_ID

    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text)
            if "Content Security Policy" in msg.text else None)
    response = await page.goto(demo.url + "/demo")
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'nonce-" in csp
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    dash = await page.request.get(demo.url + "/dashboard/login")
    assert dash.headers["content-security-policy"].split("script-src")[0] == \
        csp.split("script-src")[0]

    # The page works under the policy. (Start first: the button is there only while the
    # chat is empty, so a message arriving first would take it away.)
    await page.click("#parent-start")
    await page.locator("#parent .msg.bot").first.wait_for()
    # a bot message with URL buttons, sent by the real PTB client to the fake Telegram
    urls = {"web": "https://example.org/help", "tg": "tg://resolve?domain=parentline",
            "js": "javascript:alert(document.cookie)", "data": "data:text/html,<b>x</b>",
            "http": "http://example.org/", "vb": " JavaScript:alert(1)"}
    async with Bot(demo.fake.token, base_url=demo.fake.base_url) as bot:
        await bot.send_message(PARENT_ID, "links to press", reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton(name, url=url)] for name, url in urls.items()]))
    await page.locator("#parent .msg.bot", has_text="links to press").wait_for()
    links = page.locator("#parent .msg.bot", has_text="links to press").locator(".kbd a")
    hrefs = {await a.inner_text(): await a.get_attribute("href") for a in await links.all()}
    assert hrefs == {"web": urls["web"], "tg": urls["tg"]}
    text = await page.locator("#parent .msg.bot", has_text="links to press").inner_text()
    assert all(name in text for name in ("js", "data", "http", "vb"))  # shown as plain text
    state = await (await page.request.get(demo.url + "/demo/api/state")).json()
    shown = [b for m in state["parent"] for row in m["buttons"] for b in row]
    assert {b.get("url") for b in shown if "url" in b} == {urls["web"], urls["tg"]}
    assert not violations, violations
