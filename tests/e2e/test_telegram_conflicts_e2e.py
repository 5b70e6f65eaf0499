"""Telegram as it really is: someone else taking the bot's updates, and replicas racing.

* A stray second process polling with the production token: the real Bot API answers
  the older parked getUpdates 409 "terminated by other getUpdates request" each time the
  other one parks. The line says so once, is not ready while it lasts, loses nothing and
  is ready again when the other process stops.
* A webhook someone sets while the line polls: 409 "terminated by setWebhook request",
  then "can't use getUpdates method while webhook is active". The line does not delete
  it, says so, and polls again by itself once it is removed.
* Replicas starting together in webhook mode: Telegram accepts one setWebhook a second
  per bot (429 "retry after 1" to the others); they all come up, and all serve.

The real line (python-telegram-bot over HTTP) against ``fake_telegram``; health reads a
test clock, so "quiet for 20 s" needs no sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from conftest import Line, line_settings

from bot.app.runtime import LineRuntime
from bot.telegram.health import CONFLICT_QUIET, OTHER_POLLER_PROBLEM, WEBHOOK_PROBLEM
from core.storage.db import Database
from core.storage.migrate import upgrade
from fake_telegram import FakeTelegram

PG_URL = os.environ.get("PARENTLINE_TEST_POSTGRES_URL", "")


@pytest.fixture
def line_serves_web() -> bool:
    """/readyz and /metrics on the ops port."""
    return True


class Clock:
    """The health check's clock; a test moves it on."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def quick_polls(line: Line) -> Clock:
    """Health on a test clock, and 1 s long polls (so a normal answer comes every second)."""
    clock = Clock()
    line.runtime.health.clock = clock
    assert line.runtime.poller is not None
    line.runtime.poller.timeout = 1
    return clock


async def ops_get(runtime: LineRuntime, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession(trust_env=False) as http, http.get(
            f"http://127.0.0.1:{runtime.ops_port}{path}") as r:
        return r.status, await r.text()


async def readyz(runtime: LineRuntime) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession(trust_env=False) as http, http.get(
            f"http://127.0.0.1:{runtime.ops_port}/readyz") as r:
        body: dict[str, Any] = await r.json()
        return r.status, body


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"not within {timeout}s")
        await asyncio.sleep(0.05)


def metric(text: str, sample: str) -> float:
    """The value of one sample line (``name{labels}``) in a /metrics text."""
    for line in text.splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no {sample} in /metrics")


async def raw_call(fake: FakeTelegram, method: str, params: dict[str, Any]) -> dict[str, Any]:
    async with aiohttp.ClientSession(trust_env=False) as http, http.post(
            f"{fake.base_url}{fake.token}/{method}", data=params) as r:
        body: dict[str, Any] = await r.json()
        return body


async def stray_poller(fake: FakeTelegram, seen: list[int]) -> None:
    """A second process with the production token: plain getUpdates with a long poll,
    in a loop, never confirming anything (no offset)."""
    async with aiohttp.ClientSession(trust_env=False) as http:
        while True:
            async with http.post(f"{fake.base_url}{fake.token}/getUpdates",
                                 data={"timeout": "1"}) as r:
                body = await r.json()
            if body.get("ok"):
                seen.extend(int(u["update_id"]) for u in body["result"])
            await asyncio.sleep(0.1)


def the_lines_poll(r: Any) -> bool:
    """The line's getUpdates carries allowed_updates; the stray's does not."""
    return r.method == "getUpdates" and "allowed_updates" in r.params


def warnings_of(caplog: pytest.LogCaptureFixture, sentence: str) -> int:
    return sum(1 for rec in caplog.records if rec.getMessage() == sentence)


# --- two pollers with one token -------------------------------------------------------------


async def test_a_second_poller_with_the_token_is_noticed_and_nothing_is_lost(
        line: Line, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    clock = quick_polls(line)
    runtime, fake = line.runtime, line.fake
    assert (await readyz(runtime))[0] == 200
    parent = line.parent(951)

    seen: list[int] = []
    stray = asyncio.create_task(stray_poller(fake, seen))
    try:
        async def not_ready() -> bool:
            status, body = await readyz(runtime)
            return status == 503 and body.get("reason") == OTHER_POLLER_PROBLEM
        await eventually(not_ready)
        _, text = await ops_get(runtime, "/metrics")
        assert metric(text, 'parentline_telegram_poll_conflict{kind="other_poller"}') == 1
        assert metric(text, 'parentline_telegram_poll_conflict{kind="webhook"}') == 0
        assert metric(text, 'parentline_telegram_poll_conflicts_total{kind="other_poller"}') >= 2

        # The line was just pushed out (its last poll got the 409) and waits before polling
        # again; the stray's poll is parked. A parent writes: the stray fetches it first.
        await fake.wait_until(lambda: any(
            the_lines_poll(r) for r in fake.requests("getUpdates")[-1:]
            if r.status == 409), 5)
        parent.says("hello, is anyone there?")
        update_id = fake.pending_updates[-1]["update_id"]
        await fake.wait_until(lambda: update_id in seen, 5)
    finally:
        stray.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await stray

    # Fetched by the other process but never confirmed: it still reaches the line.
    await parent.reads()
    assert (await readyz(runtime))[0] == 503  # 409s only just stopped
    clock.advance(CONFLICT_QUIET + 1)

    async def ready() -> bool:
        return (await readyz(runtime))[0] == 200
    await eventually(ready)
    _, text = await ops_get(runtime, "/metrics")
    assert metric(text, 'parentline_telegram_poll_conflict{kind="other_poller"}') == 0
    assert metric(text, 'parentline_telegram_poll_conflicts_total{kind="other_poller"}') >= 2
    assert warnings_of(caplog, OTHER_POLLER_PROBLEM) == 1  # said once, not per 409
    assert not fake.requests("deleteWebhook")[1:]  # only the one at start-up


async def test_one_stray_conflict_from_a_restart_does_not_make_the_line_unready(
        line: Line) -> None:
    """A restart's overlap leaves one 409 (the old process's last poll): not a conflict."""
    quick_polls(line)
    runtime, fake = line.runtime, line.fake
    await fake.wait_until(lambda: any(the_lines_poll(r) for r in fake.requests()), 5)
    await asyncio.sleep(0.1)  # the line's poll is parked
    # The old process polls once more (parking, so the line's poll is pushed out; the
    # line's next poll pushes it out in turn), then stops.
    async with aiohttp.ClientSession(trust_env=False) as http, http.post(
            f"{fake.base_url}{fake.token}/getUpdates", data={"timeout": "1"}) as r:
        assert r.status in (200, 409)
    await fake.wait_until(lambda: any(
        the_lines_poll(r) and r.status == 409 for r in fake.requests()), 5)
    status, body = await readyz(runtime)
    assert status == 200 and "reason" not in body
    parent = line.parent(952)
    parent.says("hi")
    await parent.reads()
    _, text = await ops_get(runtime, "/metrics")
    assert metric(text, 'parentline_telegram_poll_conflicts_total{kind="other_poller"}') == 1
    assert metric(text, 'parentline_telegram_poll_conflict{kind="other_poller"}') == 0


# --- a webhook set by someone else ------------------------------------------------------------


async def test_a_webhook_set_while_polling_is_left_alone_and_polling_resumes_without_it(
        line: Line, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    quick_polls(line)
    runtime, fake = line.runtime, line.fake
    await fake.wait_until(lambda: any(the_lines_poll(r) for r in fake.requests()), 5)
    hook = "http://127.0.0.1:9/someone-elses-hook"  # nothing answers there
    assert (await raw_call(fake, "setWebhook", {"url": hook}))["ok"]

    async def not_ready() -> bool:
        status, body = await readyz(runtime)
        return status == 503 and body.get("reason") == WEBHOOK_PROBLEM
    await eventually(not_ready)
    _, text = await ops_get(runtime, "/metrics")
    assert metric(text, 'parentline_telegram_poll_conflict{kind="webhook"}') == 1
    assert metric(text, 'parentline_telegram_poll_conflicts_total{kind="webhook"}') >= 1
    parent = line.parent(953)
    parent.says("hello?")  # Telegram tries the webhook; nothing takes it from the queue
    await asyncio.sleep(1.0)  # the line keeps polling (and keeps getting 409) meanwhile
    assert fake.world.webhook.url == hook  # not deleted by the line
    assert len(fake.requests("deleteWebhook")) == 1  # the one before polling began
    assert sum(1 for r in fake.requests("getUpdates") if the_lines_poll(r) and r.status == 409
               ) >= 2
    assert warnings_of(caplog, WEBHOOK_PROBLEM) == 1

    assert (await raw_call(fake, "deleteWebhook", {}))["ok"]  # its owner removes it
    await parent.reads()  # polling resumed by itself and got what was waiting

    async def ready() -> bool:
        return (await readyz(runtime))[0] == 200
    await eventually(ready)
    _, text = await ops_get(runtime, "/metrics")
    assert metric(text, 'parentline_telegram_poll_conflict{kind="webhook"}') == 0


# --- replicas starting together in webhook mode ------------------------------------------------


class RoundRobin:
    """The load balancer in front of the replicas' webhooks."""

    def __init__(self) -> None:
        self.targets: list[str] = []
        self.forwarded: Counter[int] = Counter()
        self._next = itertools.count()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/telegram/webhook", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.Response:
        if not self.targets:
            return web.Response(status=503)
        i = next(self._next) % len(self.targets)
        async with aiohttp.ClientSession(trust_env=False) as http, http.post(
                self.targets[i] + "/telegram/webhook", data=await request.read(),
                headers={k: v for k, v in request.headers.items()
                         if k.lower() in ("content-type", "x-telegram-bot-api-secret-token")},
        ) as r:
            if r.status < 300:
                self.forwarded[i] += 1
            return web.Response(status=r.status)


@pytest.fixture
async def pg_schema() -> AsyncIterator[str]:
    if not PG_URL:
        pytest.skip("PARENTLINE_TEST_POSTGRES_URL is not set (.ci/run sets it)")
    schema = f"e2e_{uuid.uuid4().hex[:10]}"
    db = Database(PG_URL, schema=schema)
    await upgrade(db)  # migrations once, before the rollout (docs/production.md)
    try:
        yield schema
    finally:
        await db.drop_schema()
        await db.dispose()


@pytest.mark.postgres
async def test_replicas_starting_together_wait_out_the_set_webhook_limit_and_all_serve(
        fake_tg: FakeTelegram, tmp_path: Path, pg_schema: str) -> None:
    replicas = 3
    proxy = RoundRobin()
    await proxy.start()
    runtimes = [
        LineRuntime(line_settings(fake_tg, tmp_path / f"unused{i}.db", webhook_url=proxy.url,
                                  webhook_secret="replica-secret"),
                    db=Database(PG_URL, schema=pg_schema), serve_web=True)
        for i in range(replicas)]
    try:
        async with asyncio.timeout(15):
            await asyncio.gather(*(r.start() for r in runtimes))
        proxy.targets = [f"http://127.0.0.1:{r.web_port}" for r in runtimes]
        calls = fake_tg.requests("setWebhook")
        assert [c.status for c in calls].count(200) == replicas
        assert [c.status for c in calls].count(429) >= 1, "Telegram's limit was never met"
        # Each refused replica waited the second Telegram asked for, then tried once more:
        # at most 1 + 2 + ... + N calls, and no two accepted within a second.
        assert len(calls) <= replicas * (replicas + 1) // 2
        accepted = [c.ts for c in calls if c.status == 200]
        assert all(b - a >= 0.9 for a, b in itertools.pairwise(accepted)), accepted
        assert fake_tg.world.webhook.url == proxy.url + "/telegram/webhook"

        for r in runtimes:
            assert (await readyz(r))[0] == 200
        parents = [8101 + i for i in range(replicas)]
        for uid in parents:
            fake_tg.create_user(uid, f"Parent{uid}")
            fake_tg.user_sends(uid, "hello")
        for uid in parents:
            await fake_tg.wait_for_message(uid, None, timeout=10)
        assert sorted(proxy.forwarded) == list(range(replicas))  # every replica took one
    finally:
        for r in runtimes:
            await r.stop()
        await proxy.stop()
