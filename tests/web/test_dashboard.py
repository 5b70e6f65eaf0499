"""The dashboard end to end: a real line against the fake Telegram, a temp SQLite file.

A coordinator gets a one-time link in Telegram, opens it, and sees the queue; a
specialist sees only the queue; forged, used and expired credentials get nowhere; every
view and export lands in the audit log; ``/metrics`` parses as Prometheus text.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest
from sqlalchemy import select, update
from yarl import URL

from bot.app.runtime import LineRuntime
from bot.telegram.outgoing import add_actions
from bot.web.dashboard.auth import COOKIE_NAME
from bot.web.dashboard.login import issue_login
from bot.web.extensions import default_extenders
from core.config import Settings
from core.context import Ctx
from core.storage.models import AuditEntry, Conversation, DailyStat, LoginToken, Parent, Staff
from fake_telegram import FakeTelegram
from handoff import roster

COORD = 500
PEER = 501
DISPATCH = Path(__file__).parents[2] / "bot" / "app" / "staff_router.py"  # routes /dashboard
LINK = re.compile(r"(http://\S+/dashboard/login\?token=[\w\-%]+)")


@pytest.fixture
async def line(fake_tg: FakeTelegram, tmp_path: Path) -> AsyncIterator[LineRuntime]:
    settings = Settings(
        _env_file=None, telegram_token=fake_tg.token, telegram_api_url=fake_tg.api_root,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'line.db'}", web_host="127.0.0.1",
        web_port=0, ops_port=0, webhook_url="", public_url="", demo=True,
    )
    rt = LineRuntime(settings, web_extenders=default_extenders())
    await rt.start()
    settings.public_url = f"http://127.0.0.1:{rt.web_port}"
    now = datetime.now(UTC)
    async with rt.db.tx() as s:
        await roster.add_staff(s, COORD, "Casey", "coordinator", ["en"], 3, [], now)
        await roster.add_staff(s, PEER, "Sam", "specialist", ["en", "es"], 3, [], now)
    try:
        yield rt
    finally:
        await rt.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    # unsafe=True: keep cookies for an IP-address host (127.0.0.1) like a browser does.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
        yield client


def _base(rt: LineRuntime) -> str:
    return f"http://127.0.0.1:{rt.web_port}"


def _ops(rt: LineRuntime) -> str:
    """The operations port (loopback): /metrics and /readyz without a token."""
    return f"http://127.0.0.1:{rt.ops_port}"


async def get_link(rt: LineRuntime, fake: FakeTelegram, staff_id: int) -> str:
    """The link the bot sends in reply to /dashboard (directly via issue_login until wired)."""
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


async def login(rt: LineRuntime, fake: FakeTelegram, http: aiohttp.ClientSession,
                staff_id: int) -> None:
    link = await get_link(rt, fake, staff_id)
    async with http.get(link, allow_redirects=False) as r:
        assert r.status == 303
        assert r.headers["Location"] == "/dashboard"
        cookie = r.headers["Set-Cookie"]
        assert cookie.startswith(COOKIE_NAME + "=")
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=28800" in cookie


async def queue_parent(rt: LineRuntime, pseudonym: str = "K7Q2", *, crisis: bool = False,
                       minutes_ago: int = 7, user_id: int = 7001) -> None:
    now = datetime.now(UTC)
    async with rt.db.tx() as s:
        parent = Parent(pseudonym=pseudonym, tg_user_id=user_id, chat_id=user_id, lang="es",
                        created_at=now, last_seen_at=now)
        s.add(parent)
        await s.flush()
        s.add(Conversation(parent_id=parent.id, status="queued",
                           priority="crisis" if crisis else "normal", crisis=crisis, lang="es",
                           topic="sleep", queued_at=now - timedelta(minutes=minutes_ago)))


async def audit_rows(rt: LineRuntime) -> list[AuditEntry]:
    async with rt.db.read() as s:
        return list(await s.scalars(select(AuditEntry).order_by(AuditEntry.id)))


# --- sign-in ---------------------------------------------------------------------------------


async def test_link_from_telegram_signs_in_and_pages_show_the_queue(
        line: LineRuntime, fake_tg: FakeTelegram, http: aiohttp.ClientSession) -> None:
    await queue_parent(line, "K7Q2", crisis=True)
    link = await get_link(line, fake_tg, COORD)
    assert link.startswith(line.settings.base_public_url + "/dashboard/login?token=")
    async with line.db.read() as s:
        stored = list(await s.scalars(select(LoginToken)))
    assert len(stored) == 1 and len(stored[0].token_hash) == 64
    assert stored[0].token_hash not in link  # only the hash is stored, never the token
    assert timedelta(minutes=9) < stored[0].expires_at - datetime.now(UTC) <= timedelta(
        minutes=10)

    await login(line, fake_tg, http, COORD)
    async with http.get(_base(line) + "/dashboard") as r:
        assert r.status == 200
        html = await r.text()
    assert "K7Q2" in html and "crisis" in html and "Casey" in html
    assert "User7001" not in html and "user7001" not in html  # no Telegram names
    assert "/dashboard/stats" in html and "/dashboard/export.csv" in html
    for path, marker in (("/dashboard/live", "K7Q2"), ("/dashboard/stats", "Last 30 days"),
                         ("/dashboard/content", "Resources to re-verify")):
        async with http.get(_base(line) + path) as r:
            assert r.status == 200, path
            assert marker in await r.text(), path


async def test_a_used_link_is_refused(
        line: LineRuntime, fake_tg: FakeTelegram, http: aiohttp.ClientSession) -> None:
    link = await get_link(line, fake_tg, COORD)
    async with http.get(link, allow_redirects=False) as r:
        assert r.status == 303
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as other:
        async with other.get(link, allow_redirects=False) as r:
            assert r.status == 403
            assert "Set-Cookie" not in r.headers
            assert "/dashboard" in await r.text()


async def test_an_expired_link_is_refused(
        line: LineRuntime, fake_tg: FakeTelegram, http: aiohttp.ClientSession) -> None:
    link = await get_link(line, fake_tg, COORD)
    async with line.db.tx() as s:
        await s.execute(update(LoginToken).values(
            expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    async with http.get(link, allow_redirects=False) as r:
        assert r.status == 403 and "Set-Cookie" not in r.headers
    async with http.get(_base(line) + "/dashboard/login?token=made-up",
                        allow_redirects=False) as r:
        assert r.status == 403


async def test_signed_out_visitors_are_told_how_to_get_a_link(
        line: LineRuntime, http: aiohttp.ClientSession) -> None:
    await queue_parent(line, "ZZ99")
    for path in ("/dashboard", "/dashboard/live", "/dashboard/stats", "/dashboard/export.csv"):
        async with http.get(_base(line) + path) as r:
            assert r.status == 401, path
            text = await r.text()
            assert "Send <code>/dashboard</code>" in text and "ZZ99" not in text


async def test_a_tampered_cookie_is_refused(
        line: LineRuntime, fake_tg: FakeTelegram, http: aiohttp.ClientSession) -> None:
    await login(line, fake_tg, http, PEER)
    good = next(c.value for c in http.cookie_jar if c.key == COOKIE_NAME)
    version, staff_id, issued, expires, sig = good.split(".")
    assert staff_id == str(PEER)
    forged = [
        f"{version}.{COORD}.{issued}.{expires}.{sig}",  # become the coordinator
        f"{version}.{staff_id}.{issued}.{int(expires) + 86400}.{sig}",  # live longer
        f"{version}.{staff_id}.{int(issued) + 10**12}.{expires}.{sig}",  # outlive a sign-out
        f"{version}.{staff_id}.{issued}.{expires}.{sig[:-2]}AA",  # a different signature
        f"{version}.{staff_id}.{issued}.{expires}",  # no signature
        f"v1.{staff_id}.{expires}.{sig}",  # the old format
        "",
    ]
    for value in forged:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as other:
            other.cookie_jar.update_cookies({COOKIE_NAME: value},
                                            response_url=URL(_base(line) + "/dashboard"))
            async with other.get(_base(line) + "/dashboard") as r:
                assert r.status == 401, value
            async with other.get(_base(line) + "/dashboard/stats") as r:
                assert r.status == 401, value


async def test_removed_staff_lose_access_at_once(
        line: LineRuntime, fake_tg: FakeTelegram, http: aiohttp.ClientSession) -> None:
    await login(line, fake_tg, http, COORD)
    async with http.get(_base(line) + "/dashboard") as r:
        assert r.status == 200
    async with line.db.tx() as s:
        assert await roster.remove_staff(s, COORD)
    async with http.get(_base(line) + "/dashboard") as r:
        assert r.status == 401


def _cookie(http: aiohttp.ClientSession) -> str:
    return next(c.value for c in http.cookie_jar if c.key == COOKIE_NAME)


async def _with_cookie(line: LineRuntime, value: str, path: str = "/dashboard") -> int:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as other:
        other.cookie_jar.update_cookies({COOKIE_NAME: value},
                                        response_url=URL(_base(line) + "/dashboard"))
        async with other.get(_base(line) + path) as r:
            return r.status


async def test_signing_out_ends_every_session_issued_before_on_the_server(
        line: LineRuntime, fake_tg: FakeTelegram, http: aiohttp.ClientSession) -> None:
    await login(line, fake_tg, http, COORD)
    first = _cookie(http)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as phone:
        await login(line, fake_tg, phone, COORD)  # a second device
        second = _cookie(phone)
    assert await _with_cookie(line, first) == 200
    assert await _with_cookie(line, second) == 200
    async with http.post(_base(line) + "/dashboard/logout", allow_redirects=False) as r:
        assert r.status == 303
    # the browser dropped its cookie, and a copy of either cookie no longer works
    for value in (first, second):
        for path in ("/dashboard", "/dashboard/stats", "/dashboard/live"):
            assert await _with_cookie(line, value, path) == 401, path
    # signing in again works
    await login(line, fake_tg, http, COORD)
    assert await _with_cookie(line, _cookie(http)) == 200
    async with line.db.read() as s:
        actions = (await s.scalars(select(AuditEntry.action))).all()
    assert "dashboard_logout" in actions


async def test_removed_and_added_back_staff_do_not_revive_old_cookies(
        line: LineRuntime, fake_tg: FakeTelegram, http: aiohttp.ClientSession) -> None:
    await login(line, fake_tg, http, PEER)
    old = _cookie(http)
    assert await _with_cookie(line, old) == 200
    async with line.db.tx() as s:
        assert await roster.remove_staff(s, PEER)
    assert await _with_cookie(line, old) == 401
    async with line.db.tx() as s:
        await roster.add_staff(s, PEER, "Sam", "specialist", ["en"], 3, [], datetime.now(UTC))
    assert await _with_cookie(line, old) == 401
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as again:
        await login(line, fake_tg, again, PEER)
        assert await _with_cookie(line, _cookie(again)) == 200


# --- roles -----------------------------------------------------------------------------------


async def test_specialists_see_the_queue_and_duty_only(
        line: LineRuntime, fake_tg: FakeTelegram, http: aiohttp.ClientSession) -> None:
    await queue_parent(line, "P3P3")
    await login(line, fake_tg, http, PEER)
    async with http.get(_base(line) + "/dashboard") as r:
        assert r.status == 200
        html = await r.text()
    assert "P3P3" in html and "read-only" in html
    assert "/dashboard/stats" not in html and "/dashboard/export.csv" not in html
    for path in ("/dashboard/stats", "/dashboard/content", "/dashboard/export.csv"):
        async with http.get(_base(line) + path) as r:
            assert r.status == 403, path
            assert "Coordinators only" in await r.text()


# --- export and audit -----------------------------------------------------------------------


async def test_csv_export_has_the_daily_numbers(
        line: LineRuntime, fake_tg: FakeTelegram, http: aiohttp.ClientSession) -> None:
    today = datetime.now(UTC).date()
    yesterday = today - timedelta(days=1)
    now = datetime.now(UTC)
    async with line.db.tx() as s:
        s.add_all([DailyStat(day=today, metric="conversations_requested", value=4),
                   DailyStat(day=today, metric="topic:sleep", value=2),
                   DailyStat(day=yesterday, metric="handoffs", value=3),
                   DailyStat(day=today - timedelta(days=90), metric="handoffs", value=9)])
        parent = Parent(pseudonym="W41T", tg_user_id=7100, chat_id=7100, created_at=now,
                        last_seen_at=now)
        s.add(parent)
        await s.flush()
        for waited in (2, 4, 30):
            s.add(Conversation(parent_id=parent.id, status="ended", queued_at=now,
                               claimed_at=now + timedelta(minutes=waited),
                               ended_at=now + timedelta(hours=1)))
    await login(line, fake_tg, http, COORD)
    async with http.get(_base(line) + "/dashboard/export.csv") as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/csv")
        assert "attachment" in r.headers["Content-Disposition"]
        body = await r.text()
    lines = body.strip().split("\n")
    assert lines[0] == "day,metric,value"
    rows = {tuple(x.split(",")) for x in lines[1:]}
    assert (today.isoformat(), "conversations_requested", "4") in rows
    assert (today.isoformat(), "topic:sleep", "2") in rows
    assert (yesterday.isoformat(), "handoffs", "3") in rows
    assert (today.isoformat(), "wait_median_minutes", "4") in rows
    assert (today.isoformat(), "wait_p90_minutes", "30") in rows
    assert not any(r[0] == (today - timedelta(days=90)).isoformat() for r in rows)
    assert "W41T" not in body
    async with http.get(_base(line) + "/dashboard/export.csv?days=365") as r:
        assert (today - timedelta(days=90)).isoformat() + ",handoffs,9" in await r.text()

    async with http.get(_base(line) + "/dashboard/stats") as r:
        html = await r.text()
    assert "4 min" in html and "30 min" in html  # median and p90 of today's waits


async def test_every_view_and_export_is_audited_without_content(
        line: LineRuntime, fake_tg: FakeTelegram, http: aiohttp.ClientSession) -> None:
    await queue_parent(line, "AU01")
    await login(line, fake_tg, http, COORD)
    for path in ("/dashboard", "/dashboard/stats", "/dashboard/content",
                 "/dashboard/export.csv"):
        async with http.get(_base(line) + path) as r:
            assert r.status == 200
    rows = [a for a in await audit_rows(line) if a.actor == f"staff:{COORD}"]
    got = [(a.action, a.details.get("page")) for a in rows]
    assert ("dashboard_login", None) in got
    assert [g for g in got if g[0] == "dashboard_view"] == [
        ("dashboard_view", "queue"), ("dashboard_view", "stats"), ("dashboard_view", "content")]
    assert [a.action for a in rows].count("dashboard_export") == 1
    for a in rows:
        assert a.pseudonym is None and a.evidence == [] and "AU01" not in str(a.details)


# --- metrics ---------------------------------------------------------------------------------

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"]*",?)*\})? '
                    r'(-?[0-9.e+]+|NaN|\+Inf|-Inf)$')


async def test_metrics_are_prometheus_text(
        line: LineRuntime, http: aiohttp.ClientSession) -> None:
    await queue_parent(line, "M1M1", crisis=True, user_id=7201)
    await queue_parent(line, "M2M2", user_id=7202)
    await queue_parent(line, "M3M3", user_id=7203)
    async with line.db.tx() as s:
        await s.execute(update(Staff).where(Staff.tg_user_id == PEER).values(on_duty=True))
    async with http.get(_ops(line) + "/metrics") as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        body = await r.text()
    values: dict[str, float] = {}
    typed = set()
    for ln in body.strip().split("\n"):
        if ln.startswith("# TYPE "):
            typed.add(ln.split()[2])
            continue
        if ln.startswith("#"):
            assert ln.startswith("# HELP "), ln
            continue
        m = SAMPLE.match(ln)
        assert m, f"not a Prometheus sample line: {ln!r}"
        values[ln.rsplit(" ", 1)[0]] = float(m.group(4))
    assert values['parentline_queue_length{priority="crisis"}'] == 1
    assert values['parentline_queue_length{priority="normal"}'] == 2
    assert values['parentline_specialists_on_duty{paused="false"}'] == 1
    assert values["parentline_content_reload_errors"] == 0
    assert values["parentline_inbox_backlog"] >= 0
    assert values["parentline_outbox_pending"] >= 0
    assert values["parentline_process_uptime_seconds"] >= 0
    assert {"parentline_inbox_backlog", "parentline_outbox_pending", "parentline_queue_length",
            "parentline_specialists_on_duty", "parentline_content_reload_errors",
            "parentline_process_uptime_seconds"} <= typed
    assert urlsplit(_base(line)).hostname == "127.0.0.1"


async def test_health_endpoints_still_answer(
        line: LineRuntime, http: aiohttp.ClientSession) -> None:
    async with http.get(_base(line) + "/healthz") as r:
        assert r.status == 200
    for path in ("/healthz", "/readyz"):
        async with http.get(_ops(line) + path) as r:
            assert r.status == 200, path
    async with http.get(_ops(line) + "/readyz") as r:
        assert "inbox_backlog" in await r.json()


async def test_metrics_and_readiness_are_not_on_the_public_port_without_the_token(
        line: LineRuntime, http: aiohttp.ClientSession) -> None:
    assert line.settings.ops_host == "127.0.0.1"  # the default: loopback only
    assert line.ops_runner is not None
    bound = {addr[0] for addr in line.ops_runner.addresses}
    assert bound == {"127.0.0.1"}, bound
    for path in ("/metrics", "/readyz"):
        for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer guess"}):
            async with http.get(_base(line) + path, headers=headers) as r:
                assert r.status == 404, (path, headers)
                body = await r.text()
            assert "parentline_" not in body and "inbox_backlog" not in body
        async with http.get(_ops(line) + path) as r:
            assert r.status == 200, path
    # the ops port serves nothing else: no dashboard, no webhook
    async with http.get(_ops(line) + "/dashboard") as r:
        assert r.status == 404
    async with http.post(_ops(line) + "/telegram/webhook", json={"update_id": 1}) as r:
        assert r.status in (404, 405)


async def test_with_a_metrics_token_the_public_port_serves_them_to_its_bearer(
        fake_tg: FakeTelegram, tmp_path: Path, http: aiohttp.ClientSession) -> None:
    settings = Settings(
        _env_file=None, telegram_token=fake_tg.token, telegram_api_url=fake_tg.api_root,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'token.db'}", web_port=0, ops_port=0,
        webhook_url="", secret_key="k" * 43, metrics_token="t0ken-for-prometheus")
    rt = LineRuntime(settings, web_extenders=default_extenders())
    await rt.start()
    try:
        ok = {"Authorization": "Bearer t0ken-for-prometheus"}
        for path in ("/metrics", "/readyz"):
            async with http.get(_base(rt) + path, headers=ok) as r:
                assert r.status == 200, path
            for bad in ({}, {"Authorization": "Bearer t0ken"},
                        {"Authorization": "t0ken-for-prometheus"}):
                async with http.get(_base(rt) + path, headers=bad) as r:
                    assert r.status == 404, (path, bad)
    finally:
        await rt.stop()


async def test_a_refused_content_reload_shows_on_the_dashboard_and_in_metrics(
        line: LineRuntime, fake_tg: FakeTelegram, http: aiohttp.ClientSession) -> None:
    from flows.content.yamlio import Problem

    line.content.last_problems = [
        Problem("content/resources/county-x.yaml", 14, 'phone "555-12" is not a phone number')]
    line.content.last_error_at = datetime.now(UTC)
    await login(line, fake_tg, http, COORD)
    async with http.get(_base(line) + "/dashboard/content") as r:
        html = await r.text()
    assert 'id="reload-refused"' in html
    assert "content/resources/county-x.yaml:14: phone &#34;555-12&#34;" in html
    async with http.get(_ops(line) + "/metrics") as r:
        assert "\nparentline_content_reload_errors 1\n" in await r.text()


async def test_content_page_shows_verification_age_due_resources_and_topic_gaps(
        line: LineRuntime, fake_tg: FakeTelegram, http: aiohttp.ClientSession) -> None:
    await login(line, fake_tg, http, COORD)
    async with http.get(_base(line) + "/dashboard/content") as r:
        assert r.status == 200
        assert "default-src 'none'" in r.headers["Content-Security-Policy"]
        html = await r.text()
    for section in ('id="verification-age"', 'id="due-recheck"', 'id="coverage-gaps"'):
        assert section in html
    gaps = html[html.index('id="coverage-gaps"'):]
    assert "Your own mental health or recovery" in gaps
    assert "Example County, EX (example)" in gaps
    assert "Raising a relative&#39;s child" in gaps  # autoescaped
    ages = html[html.index('id="verification-age"'):html.index('id="due-recheck"')]
    assert "under 3 months" in ages and "over a year" in ages
