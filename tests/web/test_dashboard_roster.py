"""The roster on the dashboard, end to end: a real line, the fake Telegram, a SQLite file.

A coordinator adds someone, changes a cap and experience tags, pauses a specialist on
duty and removes one mid-conversation: the parent goes back to the front of the queue
and is told (over real HTTP to the fake Telegram), the removed person is told and loses
their dashboard session. Specialists can't change anything; a form without the token
of the session changes nothing; every change is audited without names or content.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from bot.app.runtime import LineRuntime
from bot.telegram.outgoing import add_actions
from bot.web.dashboard.auth import COOKIE_NAME, form_token
from bot.web.dashboard.login import issue_login
from bot.web.extensions import default_extenders
from core.config import Settings
from core.context import Ctx
from core.storage.models import AuditEntry, Conversation, Parent, Staff
from fake_telegram import FakeTelegram
from handoff import roster

COORD = 500
PEER = 501
NEW = 502
PARENT = 7001
DISPATCH = Path(__file__).parents[2] / "bot" / "app" / "staff_router.py"
LINK = re.compile(r"(http://\S+/dashboard/login\?token=[\w\-%]+)")
TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
TAGS = sorted(roster.known_experience())[:2]


@pytest.fixture
async def line(fake_tg: FakeTelegram, tmp_path: Path) -> AsyncIterator[LineRuntime]:
    settings = Settings(
        _env_file=None, telegram_token=fake_tg.token, telegram_api_url=fake_tg.api_root,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'line.db'}", web_host="127.0.0.1",
        web_port=0, ops_port=0, webhook_url="", public_url="", demo=True,
    )
    for uid in (COORD, PEER, NEW, PARENT):
        fake_tg.create_user(uid, f"User{uid}")
    rt = LineRuntime(settings, web_extenders=default_extenders())
    await rt.start()
    settings.public_url = f"http://127.0.0.1:{rt.web_port}"
    now = datetime.now(UTC)
    async with rt.db.tx() as s:
        await roster.add_staff(s, COORD, "Casey", "coordinator", ["en"], 3, [], now)
        peer = await roster.add_staff(s, PEER, "Sam", "specialist", ["en", "es"], 3, [], now)
        peer.on_duty, peer.duty_started_at = True, now - timedelta(minutes=30)
    try:
        yield rt
    finally:
        await rt.stop()


def _client() -> aiohttp.ClientSession:
    # unsafe=True: keep cookies for an IP-address host (127.0.0.1) like a browser does.
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with _client() as client:
        yield client


def _base(rt: LineRuntime) -> str:
    return f"http://127.0.0.1:{rt.web_port}"


async def login(rt: LineRuntime, fake: FakeTelegram, http: aiohttp.ClientSession,
                staff_id: int) -> None:
    """Sign in with the one-time link the bot sends for /dashboard."""
    after = len(fake.messages_to(staff_id))
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
    msg = await fake.wait_for_message(staff_id, "/dashboard/login?token=", timeout=10,
                                      after=after)
    found = LINK.search(msg["text"])
    assert found, msg["text"]
    async with http.get(found.group(1), allow_redirects=False) as r:
        assert r.status == 303


async def page_token(rt: LineRuntime, http: aiohttp.ClientSession) -> str:
    async with http.get(_base(rt) + "/dashboard/roster") as r:
        assert r.status == 200
        found = TOKEN.search(await r.text())
    assert found
    return found.group(1)


async def post(rt: LineRuntime, http: aiohttp.ClientSession, action: str,
               fields: list[tuple[str, str]]) -> tuple[int, str, str]:
    """POST a roster form; (status, Location, body)."""
    async with http.post(f"{_base(rt)}/dashboard/roster/{action}", data=fields,
                         allow_redirects=False) as r:
        return r.status, r.headers.get("Location", ""), await r.text()


async def staff_row(rt: LineRuntime, staff_id: int) -> Staff | None:
    async with rt.db.read() as s:
        return await s.get(Staff, staff_id)


async def roster_audit(rt: LineRuntime) -> list[AuditEntry]:
    async with rt.db.read() as s:
        rows = await s.scalars(select(AuditEntry).where(AuditEntry.action.like("roster_%"))
                               .order_by(AuditEntry.id))
        return list(rows)


async def test_a_coordinator_adds_sets_cap_and_tags_and_pauses_all_audited(
        line: LineRuntime, fake_tg: FakeTelegram, http: aiohttp.ClientSession) -> None:
    await login(line, fake_tg, http, COORD)
    token = await page_token(line, http)
    async with http.get(_base(line) + "/dashboard") as r:
        assert 'href="/dashboard/roster"' in await r.text()

    status, where, _ = await post(line, http, "add", [
        ("form_token", token), ("tg_user_id", str(NEW)), ("name", "Robin"),
        ("role", "specialist"), ("languages", "es, en"), ("max_active", "2"),
        *[("experience", t) for t in TAGS]])
    assert (status, where) == (303, "/dashboard/roster?done=added")
    new = await staff_row(line, NEW)
    assert new is not None
    assert (new.name, new.role, new.languages, new.max_active, new.experience) == (
        "Robin", "specialist", ["es", "en"], 2, TAGS)
    async with http.get(_base(line) + where) as r:
        html = await r.text()
    assert 'id="notice"' in html and 'data-staff="502"' in html and "Robin" in html

    # refused, and nothing changes: an id already on the roster, an unknown tag, a bad cap
    for fields, says in (
        ([("tg_user_id", str(PEER)), ("name", "Other"), ("max_active", "3")],
         "already on the roster"),
        ([("tg_user_id", "503"), ("name", "Lee"), ("max_active", "3"),
          ("experience", "astrology")], "unknown experience"),
        ([("tg_user_id", "503"), ("name", "Lee"), ("max_active", "0")], "Cap must be 1"),
        ([("tg_user_id", "503"), ("name", "  "), ("max_active", "2")], "Name is required"),
        ([("tg_user_id", "x"), ("name", "Lee"), ("max_active", "2")], "whole number"),
        ([("tg_user_id", "503"), ("name", "Lee"), ("max_active", "300")], "50 or fewer"),
        ([("tg_user_id", str(2**63)), ("name", "Lee"), ("max_active", "2")],
         "the number Telegram shows"),
    ):
        status, _, body = await post(line, http, "add", [("form_token", token), *fields])
        assert status == 400 and says in body, says
    assert await staff_row(line, 503) is None
    sam = await staff_row(line, PEER)
    assert sam is not None and sam.name == "Sam"

    status, where, _ = await post(line, http, "update", [
        ("form_token", token), ("staff", str(PEER)), ("max_active", "1"),
        ("experience", TAGS[1])])
    assert (status, where) == (303, "/dashboard/roster?done=updated")
    sam = await staff_row(line, PEER)
    assert sam is not None and (sam.max_active, sam.experience) == (1, [TAGS[1]])

    status, where, _ = await post(line, http, "pause", [
        ("form_token", token), ("staff", str(PEER)), ("paused", "1")])
    assert (status, where) == (303, "/dashboard/roster?done=paused")
    sam = await staff_row(line, PEER)
    assert sam is not None and sam.paused and sam.on_duty
    await fake_tg.wait_for_message(PEER, "A coordinator paused you", timeout=10)
    # someone off duty can't be paused
    status, _, body = await post(line, http, "pause", [
        ("form_token", token), ("staff", str(NEW)), ("paused", "1")])
    assert status == 400 and "on duty" in body
    status, _, _ = await post(line, http, "pause", [
        ("form_token", token), ("staff", str(PEER)), ("paused", "0")])
    assert status == 303
    await fake_tg.wait_for_message(PEER, "A coordinator resumed you", timeout=10)

    entries = await roster_audit(line)
    assert [e.action for e in entries] == ["roster_add", "roster_update", "roster_pause",
                                           "roster_resume"]
    assert all(e.actor == f"staff:{COORD}" for e in entries)
    assert entries[0].details == {"staff": NEW, "role": "specialist", "languages": ["es", "en"],
                                  "max_active": 2, "experience": TAGS}
    assert entries[1].details == {"staff": PEER, "max_active": 1, "experience": [TAGS[1]]}
    dumped = json.dumps([e.details for e in entries])
    assert "Robin" not in dumped and "Sam" not in dumped  # ids, never names


async def test_removing_a_specialist_requeues_their_parent_and_tells_them(
        line: LineRuntime, fake_tg: FakeTelegram, http: aiohttp.ClientSession) -> None:
    now = datetime.now(UTC)
    async with line.db.tx() as s:
        parent = Parent(pseudonym="K7Q2", tg_user_id=PARENT, chat_id=PARENT, lang="en",
                        created_at=now, last_seen_at=now)
        s.add(parent)
        await s.flush()
        conv = Conversation(parent_id=parent.id, status="active", priority="normal",
                            lang="en", queued_at=now - timedelta(minutes=12),
                            claimed_at=now - timedelta(minutes=10), specialist_id=PEER)
        s.add(conv)
        await s.flush()
        conv_id = conv.id
    await login(line, fake_tg, http, COORD)
    async with _client() as peer_browser:
        await login(line, fake_tg, peer_browser, PEER)
        async with peer_browser.get(_base(line) + "/dashboard") as r:
            assert r.status == 200
        token = await page_token(line, http)

        status, _, body = await post(line, http, "remove", [
            ("form_token", token), ("staff", str(PEER))])  # the box not ticked
        assert status == 400 and "confirm" in body
        assert await staff_row(line, PEER) is not None
        status, _, body = await post(line, http, "remove", [
            ("form_token", token), ("staff", str(COORD)), ("confirm", "yes")])
        assert status == 400 and "remove yourself" in body
        assert await staff_row(line, COORD) is not None

        status, where, _ = await post(line, http, "remove", [
            ("form_token", token), ("staff", str(PEER)), ("confirm", "yes")])
        assert (status, where) == (303, "/dashboard/roster?done=removed")
        assert await staff_row(line, PEER) is None
        async with line.db.read() as s:
            back = await s.get(Conversation, conv_id)
        assert back is not None
        assert (back.status, back.specialist_id, back.front_of_queue) == ("queued", None, True)

        told = await fake_tg.wait_for_message(PARENT, "Your peer had to step away", timeout=10)
        assert "number 1" in told["text"]
        await fake_tg.wait_for_message(PEER, "taken you off the line's roster", timeout=10)
        # their dashboard session ended with the removal
        async with peer_browser.get(_base(line) + "/dashboard") as r:
            assert r.status == 401

    async with http.get(_base(line) + "/dashboard/roster") as r:
        html = await r.text()
    assert 'data-staff="501"' not in html
    entries = await roster_audit(line)
    assert [(e.action, e.details) for e in entries] == [
        ("roster_remove", {"staff": PEER, "role": "specialist", "requeued": 1})]
    # removing someone no longer on the roster says so and changes nothing
    status, _, body = await post(line, http, "remove", [
        ("form_token", token), ("staff", str(PEER)), ("confirm", "yes")])
    assert status == 400 and "no longer on the roster" in body


async def test_a_specialist_can_see_but_not_change_the_roster(
        line: LineRuntime, fake_tg: FakeTelegram, http: aiohttp.ClientSession) -> None:
    await login(line, fake_tg, http, PEER)
    async with http.get(_base(line) + "/dashboard") as r:
        html = await r.text()
    assert r.status == 200 and "Sam" in html and 'href="/dashboard/roster"' not in html
    async with http.get(_base(line) + "/dashboard/roster") as r:
        assert r.status == 403
    # even with a valid token for their own session, every change is refused
    cookie = next(c.value for c in http.cookie_jar if c.key == COOKIE_NAME)
    token = form_token(line.settings.secret, cookie)
    for action, fields in (
        ("add", [("tg_user_id", str(NEW)), ("name", "Robin"), ("max_active", "3")]),
        ("update", [("staff", str(PEER)), ("max_active", "9")]),
        ("pause", [("staff", str(PEER)), ("paused", "1")]),
        ("remove", [("staff", str(COORD)), ("confirm", "yes")]),
    ):
        status, _, _ = await post(line, http, action, [("form_token", token), *fields])
        assert status == 403, action
    assert await staff_row(line, NEW) is None
    sam, casey = await staff_row(line, PEER), await staff_row(line, COORD)
    assert sam is not None and casey is not None
    assert (sam.max_active, sam.paused) == (3, False)
    assert await roster_audit(line) == []


async def test_a_form_without_this_sessions_token_changes_nothing(
        line: LineRuntime, fake_tg: FakeTelegram, http: aiohttp.ClientSession) -> None:
    await login(line, fake_tg, http, COORD)
    async with _client() as other:
        await login(line, fake_tg, other, COORD)  # the same coordinator, another device
        theirs = await page_token(line, other)
    mine = await page_token(line, http)
    assert theirs != mine
    fields = [("tg_user_id", str(NEW)), ("name", "Robin"), ("max_active", "3")]
    for token in (None, "", theirs, mine[:-2] + "AA"):
        sent = fields if token is None else [("form_token", token), *fields]
        status, _, body = await post(line, http, "add", sent)
        assert status == 403 and "Nothing was changed" in body, token
    assert await staff_row(line, NEW) is None
    # signed out entirely: told how to sign in, nothing changes
    async with _client() as stranger:
        status, _, _ = await post(line, stranger, "add", [("form_token", mine), *fields])
        assert status == 401
    assert await staff_row(line, NEW) is None
    status, _, _ = await post(line, http, "add", [("form_token", mine), *fields])
    assert status == 303
    assert await staff_row(line, NEW) is not None


async def test_the_roster_offers_and_accepts_the_running_contents_experience_tags(
        fake_tg: FakeTelegram, tmp_path: Path, http: aiohttp.ClientSession) -> None:
    """A coordinator's own content (a tag the shipped files do not have) is what the
    form offers and accepts: one list of tags for the flow, the card, the roster and
    the routing."""
    content = tmp_path / "content"
    shutil.copytree(Path(__file__).parents[2] / "content", content)
    with (content / "experience.yaml").open("a", encoding="utf-8") as f:
        f.write('  - id: kinship-care\n'
                '    label: {en: "raising a grandchild", es: "criar a un nieto"}\n')
    settings = Settings(
        _env_file=None, telegram_token=fake_tg.token, telegram_api_url=fake_tg.api_root,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'line.db'}", web_host="127.0.0.1",
        web_port=0, ops_port=0, webhook_url="", public_url="", demo=True, content_dir=content,
    )
    fake_tg.create_user(COORD, "Coord")
    rt = LineRuntime(settings, web_extenders=default_extenders())
    await rt.start()
    try:
        settings.public_url = f"http://127.0.0.1:{rt.web_port}"
        async with rt.db.tx() as s:
            await roster.add_staff(s, COORD, "Casey", "coordinator", ["en"], 3, [],
                                   datetime.now(UTC))
        assert "kinship-care" not in roster.known_experience()  # not in the shipped files
        await login(rt, fake_tg, http, COORD)
        async with http.get(_base(rt) + "/dashboard/roster") as r:
            assert 'value="kinship-care"' in await r.text()
        token = await page_token(rt, http)
        status, _, body = await post(rt, http, "add", [
            ("form_token", token), ("tg_user_id", str(NEW)), ("name", "Gran"),
            ("role", "specialist"), ("languages", "en"), ("max_active", "2"),
            ("experience", "kinship-care")])
        assert status == 303, body
        added = await staff_row(rt, NEW)
        assert added is not None and added.experience == ["kinship-care"]
        status, _, _ = await post(rt, http, "update", [
            ("form_token", token), ("staff", str(NEW)), ("max_active", "2"),
            ("experience", "astrology")])
        assert status == 400
    finally:
        await rt.stop()
