"""The staff group and the token, as Telegram changes them under a running line (issue #13).

Real parents in crisis depend on staff alerts reaching the staff group. Each test drives
the real line (python-telegram-bot over HTTP, /readyz and /metrics over HTTP) against
``fake_telegram``, which answers as the real Bot API server does (telegram-bot-api,
Client.cpp): a group upgraded to a supergroup, the bot removed from the group, a revoked
token.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
from typing import Any

import aiohttp
import pytest
from conftest import Line, Person, line_settings

from bot.app.runtime import LineRuntime
from core.config import SettingsError
from core.storage.models import KeyValue
from fake_telegram import FakeTelegram

STAFF = -5001  # a basic group, as new Telegram groups are
COORDINATOR = 7401
GROUP_TITLE = "Staff Room Secret Title"


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """The staff chat is kept in the kv table: both databases."""
    return str(request.param)


@pytest.fixture
def line_overrides() -> dict[str, Any]:
    return {"staff_chat_id": STAFF}


@pytest.fixture
def line_serves_web() -> bool:
    return True


def t(line: Line, key: str, lang: str = "en", **params: Any) -> str:
    return line.runtime.content.current.text(key, lang, **params)


async def duty(line: Line, uid: int, name: str, **kw: Any) -> Person:
    peer = await line.specialist(uid, name, **kw)
    peer.says("/onduty")
    await peer.reads("on duty")
    return peer


async def staff_group(line: Line) -> None:
    """The coordinator adds the bot to the staff group, which the line leaves alone."""
    line.fake.add_bot_to_group(STAFF, COORDINATOR, title=GROUP_TITLE)
    line.fake.group_message(STAFF, COORDINATOR, "welcome, bot")
    await asyncio.sleep(0.5)
    assert line.fake.texts_to(STAFF) == []


async def ops(line: Line, path: str) -> tuple[int, Any]:
    url = f"http://127.0.0.1:{line.runtime.ops_port}{path}"
    async with aiohttp.ClientSession() as http, http.get(url) as r:
        body = await r.json() if path == "/readyz" else await r.text()
        return r.status, body


def metric(text: str, name: str) -> float | None:
    for row in text.splitlines():
        if row.startswith(name + " ") or row.startswith(name + "{"):
            return float(row.rsplit(" ", 1)[1])
    return None


async def eventually(check: Any, timeout: float = 10.0) -> Any:
    """Poll an async ``check`` until it returns something truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"not within {timeout}s; last: {result!r}")
        await asyncio.sleep(0.1)


async def readiness(line: Line, status: str) -> Any:
    """/readyz's body once it answers 200 with ``status`` ("ready", "degraded")."""
    async def check() -> Any:
        code, body = await ops(line, "/readyz")
        return body if code == 200 and body["status"] == status else None

    return await eventually(check)


def leaves(line: Line, chat_id: int) -> list[Any]:
    return [r for r in line.fake.requests("leaveChat") if r.chat_id == chat_id]


# --- 1. the staff group is upgraded to a supergroup ---------------------------------------


async def test_alerts_follow_the_staff_group_into_its_supergroup_and_after_a_restart(
        line: Line, tmp_path: Any) -> None:
    await staff_group(line)
    ana = await duty(line, 7402, "Ana")
    first = line.parent(941)
    await first.talks()
    await first.reads("in line")
    await line.fake.wait_for_message(STAFF, "New request")

    # Telegram upgrades the group. Its two service messages reach the line late (as they
    # can under load, or at another replica): the next alert is refused at the old id.
    new = line.fake.migrate_group(STAFF, COORDINATOR)
    late = line.fake.world.pending[-2:]
    del line.fake.world.pending[-2:]
    assert [u["message"].get("migrate_to_chat_id") for u in late] == [new, None]

    parent = line.parent(942)
    parent.says("i want to kill myself")
    await parent.reads(t(line, "crisis.suicide")[:30])
    await ana.reads("CRISIS")
    crisis = await line.fake.wait_for_message(new, "CRISIS", timeout=10)
    assert "CRISIS" in crisis["text"]
    refused = [r for r in line.fake.requests("sendMessage")
               if r.chat_id == STAFF and r.status == 400]
    assert refused, "the alert must first have been refused at the old id"
    assert line.runtime.settings.staff_chat_id == new

    # The service messages arrive: the supergroup is the staff chat (no "private chats
    # only", no leaving) and the staff chat is told once, with the id to configure.
    for update in late:
        line.fake.world.enqueue("message", update["message"])
    notice = await line.fake.wait_for_message(new, "supergroup", timeout=10)
    assert f"PARENTLINE_STAFF_CHAT_ID={new}" in notice["text"]
    line.fake.group_message(new, COORDINATOR, "thanks bot")
    await asyncio.sleep(1.0)
    texts = line.fake.texts_to(new)
    assert sum("supergroup" in x for x in texts) == 1
    group_reply = t(line, "common.group_not_supported")
    assert group_reply not in texts and group_reply not in line.fake.texts_to(STAFF)
    assert not leaves(line, new) and not leaves(line, STAFF)
    async with line.runtime.db.read() as s:
        kept = await s.get(KeyValue, "staff_chat_id")
        assert kept is not None and str(new) in kept.value

    # A restart with PARENTLINE_STAFF_CHAT_ID still naming the old group keeps using the new.
    await line.runtime.stop()
    line.runtime = LineRuntime(
        line_settings(line.fake, tmp_path / "line.db", staff_chat_id=STAFF),
        db=line.runtime.db, serve_web=True)
    await line.runtime.start()
    assert line.runtime.settings.staff_chat_id == new
    before = len([r for r in line.fake.requests() if r.chat_id == STAFF])
    third = line.parent(943)
    third.says("i want to end my life")
    await third.reads(t(line, "crisis.suicide")[:30])
    await line.fake.wait_for_message(new, "CRISIS", timeout=10)
    assert len([r for r in line.fake.requests() if r.chat_id == STAFF]) == before
    status, ready = await ops(line, "/readyz")
    assert status == 200 and ready["status"] == "ready"
    await asyncio.sleep(0.5)
    assert sum("supergroup" in x for x in line.fake.texts_to(new)) == 1


async def test_service_messages_first_move_the_staff_chat_without_a_refusal(line: Line) -> None:
    """The usual order: the line hears the upgrade before it has anything to send."""
    await staff_group(line)
    ana = await duty(line, 7403, "Ana")
    new = line.fake.migrate_group(STAFF, COORDINATOR)
    notice = await line.fake.wait_for_message(new, "supergroup", timeout=10)
    assert str(STAFF) in notice["text"] and str(new) in notice["text"]
    parent = line.parent(944)
    parent.says("i want to kill myself")
    await parent.reads(t(line, "crisis.suicide")[:30])
    await ana.reads("CRISIS")
    await line.fake.wait_for_message(new, "CRISIS", timeout=10)
    assert not [r for r in line.fake.requests("sendMessage") if r.chat_id == STAFF
                and r.status != 200]
    assert not leaves(line, new)
    assert sum("supergroup" in x for x in line.fake.texts_to(new)) == 1


# --- 2. the bot is removed from the staff group ---------------------------------------------


async def test_a_bot_removed_from_the_staff_group_is_degraded_and_parents_still_get_help(
        line: Line, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    await staff_group(line)
    ana = await duty(line, 7404, "Ana")
    status, ready = await ops(line, "/readyz")
    assert status == 200 and ready["status"] == "ready"
    _, text = await ops(line, "/metrics")
    assert metric(text, "parentline_staff_chat_reachable") == 1

    line.fake.remove_bot_from_group(STAFF, COORDINATOR)  # my_chat_member "kicked"

    # Still ready for a load balancer (parents are answered), with the warning to fix.
    body = await readiness(line, "degraded")
    assert "staff group" in body["warning"] and str(STAFF) in body["warning"]
    assert "add the bot" in body["warning"] and "reason" not in body
    _, text = await ops(line, "/metrics")
    assert metric(text, "parentline_staff_chat_reachable") == 0

    # A parent in crisis: crisis lines at once, the specialist alerted, the staff group
    # refused with Telegram's 403 (the line does not fall over).
    parent = line.parent(945)
    parent.says("i want to kill myself")
    await parent.reads(t(line, "crisis.suicide")[:30])
    await ana.reads("CRISIS")
    await line.fake.wait_until(lambda: any(
        r.chat_id == STAFF and r.status == 403 for r in line.fake.requests("sendMessage")), 10)
    status, body = await ops(line, "/readyz")
    assert status == 200 and "staff group" in body["warning"]

    logged = [r.getMessage() for r in caplog.records if "staff group" in r.getMessage()]
    assert any("removed from the staff group" in m and str(STAFF) in m for m in logged)
    everything = "\n".join(r.getMessage() for r in caplog.records)
    for private in (GROUP_TITLE, "kill myself", "Parent945", "Staff7404"):
        assert private not in everything

    # Added back: ready again, alerts reach the group.
    line.fake.add_bot_to_group(STAFF, COORDINATOR)

    async def ready_again() -> Any:
        status, body = await ops(line, "/readyz")
        return status == 200 and body["status"] == "ready"

    await eventually(ready_again)
    other = line.parent(946)
    other.says("i want to end my life")
    await other.reads(t(line, "crisis.suicide")[:30])
    await line.fake.wait_for_message(STAFF, "CRISIS", timeout=10)


async def test_a_403_from_the_staff_group_alone_is_enough_to_say_so(line: Line) -> None:
    """No my_chat_member came (missed, or before this process): the refusal tells."""
    await staff_group(line)
    await duty(line, 7405, "Ana")
    chat = line.fake.world.chats[STAFF]
    chat.bot_member, chat.bot_kicked = False, True  # removed while nobody was listening
    parent = line.parent(947)
    parent.says("i want to kill myself")
    await parent.reads(t(line, "crisis.suicide")[:30])

    body = await readiness(line, "degraded")
    assert "staff group" in body["warning"]


@pytest.mark.parametrize("backend", ["sqlite"])  # not about the kv table
async def test_a_staff_chat_id_telegram_does_not_know_is_degraded_and_says_so(
        line: Line) -> None:
    """A mistyped PARENTLINE_STAFF_CHAT_ID: every alert there is a 400 "chat not found"
    that no retry mends; /readyz says what to check instead of losing them quietly."""
    await duty(line, 7406, "Ana")  # no staff group was ever made: Telegram knows no such chat
    parent = line.parent(948)
    parent.says("i want to kill myself")
    await parent.reads(t(line, "crisis.suicide")[:30])

    body = await readiness(line, "degraded")
    assert "chat not found" in body["warning"] and "PARENTLINE_STAFF_CHAT_ID" in body["warning"]


@pytest.mark.parametrize("backend", ["sqlite"])  # not about the kv table
async def test_a_staff_group_where_the_bot_may_not_write_is_degraded_until_it_may(
        line: Line) -> None:
    await staff_group(line)
    await duty(line, 7407, "Ana")
    line.fake.world.chats[STAFF].members_can_send = False  # an admin made the group read-only
    line.parent(949).says("i want to kill myself")

    body = await readiness(line, "degraded")
    assert "not enough rights" in body["warning"]
    refused = [r for r in line.fake.requests("sendMessage") if r.chat_id == STAFF]
    assert refused and refused[-1].status == 400

    line.fake.world.chats[STAFF].members_can_send = True  # the admin lets members write again
    line.parent(950).says("i want to kill myself")

    await readiness(line, "ready")


# --- 3. the token is revoked -----------------------------------------------------------------


async def test_a_revoked_token_fails_readiness_backs_off_and_says_what_to_do(
        line: Line, tmp_path: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    parent = line.parent(948)
    parent.says("hi")
    await parent.reads()
    _, text = await ops(line, "/metrics")
    assert metric(text, "parentline_telegram_token_rejected") == 0
    last_ok = metric(text, "parentline_telegram_last_success_timestamp_seconds")
    assert last_ok and metric(text, "parentline_poll_last_success_timestamp_seconds")

    new_token = line.fake.revoke_token()  # every call with the old token: 401 Unauthorized

    async def not_ready() -> Any:
        status, body = await ops(line, "/readyz")
        return body if status == 503 else None

    body = await eventually(not_ready)
    assert body["status"] == "not_ready"
    assert "401" in body["reason"] and "PARENTLINE_TELEGRAM_TOKEN" in body["reason"]
    assert "@BotFather" in body["reason"]

    # Polling keeps trying, more slowly each time (1 s, 2 s, 4 s ...), not every 5 s.
    def retries() -> list[str]:
        return [r.getMessage() for r in caplog.records if "polling again in" in r.getMessage()]

    await line.fake.wait_until(lambda: len(retries()) >= 3, 15)
    assert [m.rsplit("in ", 1)[1] for m in retries()[:3]] == ["1 s).", "2 s).", "4 s)."]
    sentence = retries()[0]
    assert sentence.count(". ") == 0 and "set PARENTLINE_TELEGRAM_TOKEN" in sentence
    logs = "\n".join(r.getMessage() for r in caplog.records)
    assert new_token not in logs and new_token.split(":")[0] + ":TEST-fake" not in logs
    refused = [r for r in line.fake.requests("getUpdates") if r.status == 401]
    assert 3 <= len(refused) <= 5

    _, text = await ops(line, "/metrics")
    assert metric(text, "parentline_telegram_token_rejected") == 1
    assert metric(text, "parentline_telegram_last_success_timestamp_seconds") == last_ok
    age = metric(text, "parentline_poll_age_seconds")
    assert age is not None and age >= 2
    assert metric(text, "parentline_webhook_age_seconds") is None  # polling mode

    # The operator sets the new token and restarts: the line is ready and answers.
    await line.runtime.stop()
    line.runtime = LineRuntime(
        line_settings(line.fake, tmp_path / "line.db", staff_chat_id=STAFF,
                      telegram_token=new_token),
        db=line.runtime.db, serve_web=True)
    await line.runtime.start()
    parent.says("are you there?")
    await parent.reads()
    status, ready = await ops(line, "/readyz")
    assert status == 200 and ready["status"] == "ready"
    _, text = await ops(line, "/metrics")
    assert metric(text, "parentline_telegram_token_rejected") == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_in_webhook_mode_a_revoked_token_shows_although_no_update_comes(
        fake_tg: FakeTelegram, tmp_path: Any, backend: str) -> None:
    """Nothing polls in webhook mode: a quiet line asks Telegram now and then, so /readyz
    says so without waiting for an update that will never come."""
    if backend != "sqlite":
        pytest.skip("the kv table is not involved")
    port = free_port()
    settings = line_settings(fake_tg, tmp_path / "wh.db", web_port=port,
                             webhook_url=f"http://127.0.0.1:{port}", webhook_secret="s3cret")
    runtime = LineRuntime(settings)
    runtime.probe_seconds = 0.5
    await runtime.start()
    line = Line(fake_tg, runtime)
    try:
        parent = line.parent(949)
        parent.says("hi")
        await parent.reads()
        _, text = await ops(line, "/metrics")
        assert (metric(text, "parentline_webhook_last_update_timestamp_seconds") or 0) > 0
        age = metric(text, "parentline_webhook_age_seconds")
        assert age is not None and age < 10
        assert metric(text, "parentline_poll_age_seconds") is None  # webhook mode

        fake_tg.revoke_token()

        async def not_ready() -> Any:
            status, body = await ops(line, "/readyz")
            return body if status == 503 else None

        body = await eventually(not_ready)
        assert "PARENTLINE_TELEGRAM_TOKEN" in body["reason"]
        _, text = await ops(line, "/metrics")
        assert metric(text, "parentline_telegram_token_rejected") == 1
        # Not a tight loop: refused probes keep coming, each a probe interval after the last.
        await fake_tg.wait_until(
            lambda: len([r for r in fake_tg.requests("getWebhookInfo") if r.status == 401]) >= 3,
            10)
        probes = [r.ts for r in fake_tg.requests("getWebhookInfo") if r.status == 401]
        gaps = [b - a for a, b in itertools.pairwise(probes)]
        assert gaps and min(gaps) >= runtime.probe_seconds * 0.8, gaps
    finally:
        await runtime.stop()


async def test_a_revoked_token_at_start_stops_with_one_sentence(
        fake_tg: FakeTelegram, tmp_path: Any, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("the database is not involved")
    fake_tg.revoke_token()
    runtime = LineRuntime(line_settings(fake_tg, tmp_path / "t.db",
                                        telegram_token="123456789:TEST-fake-telegram-token"),
                          serve_web=False)
    try:
        with pytest.raises(SettingsError) as refused:
            async with asyncio.timeout(20):
                await runtime.start()
        (problem,) = refused.value.problems
        assert "PARENTLINE_TELEGRAM_TOKEN" in problem and "@BotFather" in problem
        assert len(fake_tg.requests("getMe")) == 1  # said once, not retried
    finally:
        await runtime.stop()
