"""Starting and stopping the whole line in one process.

``LineRuntime`` wires the parts together: the database (migrated on start), content with
hot reload, the inbox workers, the outbox sender, the job runner, intake by long polling
or webhook, and the aiohttp server. ``stop()`` drains in-flight work within a few
seconds, which is what SIGTERM calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from sqlalchemy import text
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    InvalidToken,
    NetworkError,
    RetryAfter,
)

from bot.app.jobs import JobRunner
from bot.app.processor import GIL_SWITCH_SECONDS, Processor
from bot.app.ratelimit import LocalRateLimiter, SharedRateLimiter
from bot.app.sender import Limiter, Sender
from bot.app.staff_chat import StaffChat, unwritable
from bot.app.workers import InboxWorkers, replica_id
from bot.telegram.client import Outcome, build_application, call, retry_after_seconds
from bot.telegram.health import ApiHealth
from bot.telegram.polling import Poller
from bot.web.metrics import add_metrics
from bot.web.server import WEBHOOK_PATH, make_ops_app, make_web_app
from core.config import Settings, SettingsError, secret_key_problem, webhook_problem
from core.storage import inbox, outbox
from core.storage.db import Database
from core.storage.migrate import upgrade
from flows import safety
from flows.content import ContentStore

log = logging.getLogger(__name__)
# What the line asks Telegram for, the same in polling and webhook mode.
ALLOWED_UPDATES = ("message", "edited_message", "callback_query", "my_chat_member",
                   "channel_post")

CHECKPOINT_SECONDS = 1.0
TOKEN_REFUSED_AT_START = ("Telegram rejects the bot token (it was revoked or is wrong): set "
                          "PARENTLINE_TELEGRAM_TOKEN to the bot's current token from "
                          "@BotFather.")
# Webhook mode: when Telegram has not answered anything for this long, one getWebhookInfo
# asks it (so a revoked token shows on /readyz even while no update comes).
PROBE_SECONDS = 30.0
WebExtender = Callable[[web.Application, "LineRuntime"], None]


async def _until_telegram_answers(call: Callable[[], Awaitable[Any]], what: str) -> None:
    """Start-up calls to Telegram retried with backoff: a 429, a 502 or a dropped
    connection at start must not kill the line (a wrong token still does, loudly)."""
    delay = 0.5
    while True:
        try:
            await call()
            return
        except InvalidToken:  # 401 (or 404 for a malformed token): say what to do, stop
            raise SettingsError([TOKEN_REFUSED_AT_START]) from None
        except BadRequest as exc:  # a NetworkError to PTB, but retrying can never help
            raise SettingsError([f"Telegram refused {what}: {exc.message}"]) from None
        except (RetryAfter, NetworkError, Conflict) as exc:  # 409: replicas starting together
            seconds = retry_after_seconds(exc) if isinstance(exc, RetryAfter) else delay
            log.warning("%s failed at start (%s); retrying in %.1fs", what,
                        type(exc).__name__, seconds)
            await asyncio.sleep(seconds)
            delay = min(delay * 2, 30.0)


def _freeze_startup_objects() -> None:
    """Keep what start-up built out of the garbage collector's full passes (a process that
    runs the line; tests start and stop many runtimes in one process and skip this).

    Content, compiled safety rules, SQLAlchemy's and python-telegram-bot's own tables:
    about 150,000 long-lived objects, which every full collection would walk again,
    holding up every reply for about 90 ms each time (measured on the benchmark host).
    Moved to the permanent generation once, after a collection, a full pass takes about
    2 ms. This is what ``gc.freeze`` is for.
    """
    gc.collect()
    gc.freeze()


class LineRuntime:
    """Everything that runs for one bot process (one replica)."""

    def __init__(self, settings: Settings, *, db: Database | None = None,
                 limiter: Limiter | None = None, web_extenders: list[WebExtender] | None = None,
                 serve_web: bool = True) -> None:
        if (problem := secret_key_problem(settings)) is not None:
            raise SettingsError([problem])  # never sign with a key derived from the token
        if (problem := webhook_problem(settings)) is not None:
            raise SettingsError([problem])  # Telegram would refuse it: say so, don't retry
        self.settings = settings
        self.db = db or Database(settings.database_url)
        self.owner = replica_id()
        self.content = ContentStore(settings.content_dir)
        limits = (settings.rate_global_per_second, settings.rate_chat_per_second,
                  settings.rate_chat_burst, settings.rate_group_per_minute)
        # Replicas share PostgreSQL, so they share the limit there; one SQLite process
        # keeps it in memory.
        self.limiter = limiter or (
            LocalRateLimiter(*limits) if self.db.sqlite else SharedRateLimiter(self.db, *limits)
        )
        self.health = ApiHealth()
        self.application = build_application(settings.telegram_token, settings.bot_base_url,
                                             health=self.health)
        self.staff_chat = StaffChat(settings, self.db)
        self.probe_seconds = PROBE_SECONDS
        # Rows waiting for their chat's slot are cheap sleeps with the in-memory limiter;
        # with the limiter shared in PostgreSQL each one re-checks the database, so
        # replicas keep fewer of them.
        self.sender = Sender(self.db, self._call, self.limiter, owner=self.owner,
                             chats=128 if self.db.sqlite else 32)
        self.processor = Processor(self.db, settings, self.content,
                                   after_commit=self.sender.wake.set,
                                   handoff_rows=self.sender.offer if self.db.sqlite else None)
        # getUpdates returns a chat's updates in order; parallel webhook deliveries may not.
        holdback = settings.webhook_holdback_ms / 1000 if settings.webhook_mode else 0.0
        self.workers = InboxWorkers(self.db, self.processor.process, self.processor.give_up,
                                    concurrency=settings.workers, owner=self.owner,
                                    holdback=holdback, batch=self.processor.process_batch)
        self.jobs = JobRunner(self.db, settings.retention_days, self.workers.wake)
        self.poller: Poller | None = None
        self.web_extenders = web_extenders or []
        self.serve_web = serve_web
        self.web_runner: web.AppRunner | None = None
        self.ops_runner: web.AppRunner | None = None
        self.ops_port: int | None = None
        self.web_port: int | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self.started_at: datetime | None = None
        self._stopped = asyncio.Event()

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        await upgrade(self.db)
        await self.staff_chat.load()  # an upgraded staff group: its supergroup, after restarts
        self._use_safety_rules()
        await _until_telegram_answers(self.application.initialize, "getMe")
        self.started_at = datetime.now(UTC)
        self._spawn(self.workers.run(), "inbox-workers")
        self._spawn(self.sender.run(), "outbox-sender")
        self._spawn(self.jobs.run(), "jobs")
        self._spawn(self._watch_content(), "content-watch")
        if self.staff_chat.configured is not None:
            self._spawn(self.staff_chat.refresh_forever(), "staff-chat")
        if self.db.sqlite:
            self._spawn(self._checkpoints(), "wal-checkpoints")
        if self.serve_web or self.settings.webhook_mode:
            await self._start_web()
        if self.settings.webhook_mode:
            await _until_telegram_answers(lambda: self.application.bot.set_webhook(
                self.settings.webhook_url.rstrip("/") + WEBHOOK_PATH,
                secret_token=self.settings.webhook_secret or None,
                allowed_updates=list(ALLOWED_UPDATES),
            ), "setWebhook")
            self._spawn(self._probe_telegram(), "telegram-probe")
        else:
            await self._refuse_live_webhook()
            await _until_telegram_answers(
                lambda: self.application.bot.delete_webhook(drop_pending_updates=False),
                "deleteWebhook")
            self.poller = Poller(self.db, self._get_updates, self.workers.wake.set,
                                 gather=self.settings.poll_gather_ms / 1000,
                                 health=self.health)
            self._spawn(self.poller.run(), "poller")
        log.info("parentline started (%s mode, replica %s)",
                 "webhook" if self.settings.webhook_mode else "polling", self.owner)

    async def _refuse_live_webhook(self) -> None:
        """Polling would delete a webhook set for this bot and take its updates: only when
        started with ``--take-over-webhook`` (a stray process with the production token
        must not steal a running line's updates)."""
        if self.settings.take_over_webhook:
            return
        info: list[Any] = []

        async def look() -> None:
            info.append(await self.application.bot.get_webhook_info())

        await _until_telegram_answers(look, "getWebhookInfo")
        if info and info[0].url:
            raise SettingsError([
                "A webhook is set for this bot, so another line may be running on it; "
                "polling would take its updates. Start with `parentline run "
                "--take-over-webhook` to delete it, or set PARENTLINE_WEBHOOK_URL."])

    async def stop(self, timeout: float = 5.0) -> None:
        """Stop taking work, let in-flight rows finish, close everything."""
        if self.poller is not None:
            self.poller.stop()
        self.workers.stop()
        self.jobs.stop()
        await self.workers.drain(timeout / 2)
        self.sender.stop()
        await self.sender.drain(timeout / 2)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.web_runner is not None:
            await self.web_runner.cleanup()
        if self.ops_runner is not None:
            await self.ops_runner.cleanup()
        with contextlib.suppress(Exception):
            await self.application.shutdown()
        await self.db.dispose()
        self._stopped.set()
        log.info("parentline stopped")

    async def run_forever(self) -> None:
        """Start, then wait for SIGTERM/SIGINT (SIGHUP reloads content)."""
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        self.content.install_sighup(loop)
        await self.start()
        _freeze_startup_objects()
        await stop.wait()
        await self.stop()

    def _spawn(self, coro: Awaitable[Any], name: str) -> None:
        self._tasks.append(asyncio.create_task(coro, name=name))  # type: ignore[arg-type]

    # --- parts ------------------------------------------------------------------------------

    async def _call(self, chat_id: int | None, method: str, params: dict[str, Any]) -> Outcome:
        staff = self.staff_chat
        target = staff.route(chat_id)  # a row queued for the staff group's id before its upgrade
        outcome = await call(self.application.bot, target, method, params)
        if outcome.verdict == "migrated" and outcome.migrate_to is not None and target:
            new = outcome.migrate_to
            if staff.is_staff(target) or target == staff.configured:
                try:
                    await staff.migrated(target, new)
                except Exception as exc:  # still send it there; the next refusal records it
                    log.warning("staff chat: could not record the upgrade (%s)",
                                type(exc).__name__)
            else:
                log.info("chat %s was upgraded to supergroup %s; sending there", target, new)
            target = new
            outcome = await call(self.application.bot, target, method, params)
            if outcome.verdict == "migrated":  # twice: not something a retry can mend
                outcome = Outcome("dead", error=outcome.error)
        if staff.is_staff(target):
            try:
                if outcome.verdict == "gone":
                    await staff.refused(target)  # type: ignore[arg-type]
                elif outcome.verdict == "dead" and (why := unwritable(outcome.error)):
                    await staff.refused(target, why)  # type: ignore[arg-type]
                elif outcome.verdict == "sent":
                    await staff.delivered()
            except Exception as exc:
                log.warning("staff chat: could not record its state (%s)", type(exc).__name__)
        return outcome

    async def _probe_telegram(self) -> None:
        """Webhook mode: nothing polls Telegram, so a revoked token would go unnoticed
        while no update comes. A quiet line asks getWebhookInfo now and then (at most once
        per ``probe_seconds``; ``self.health`` hears the answer, a 401 included)."""
        while True:
            await asyncio.sleep(self.probe_seconds)
            last = self.health.last_answer
            if last is not None and time.time() - last < self.probe_seconds:
                continue
            try:
                await self.application.bot.get_webhook_info()
            except Exception as exc:  # said by the health check (a 401) or passing
                log.debug("telegram probe failed (%s)", type(exc).__name__)

    def _webhook_stored(self) -> None:
        self.health.webhook_received()
        self.workers.wake.set()

    async def _get_updates(self, offset: int | None, timeout: int) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {"timeout": timeout, "allowed_updates": list(ALLOWED_UPDATES)}
        if offset is not None:
            kwargs["offset"] = offset
        # Raw JSON into the inbox (see ``build_application`` for the warning filter).
        try:
            result = await self.application.bot.do_api_request(
                "getUpdates", api_kwargs=kwargs, read_timeout=timeout + 10)
        except EndPointNotFound as exc:  # how do_api_request reports a 401: the token
            raise InvalidToken(str(exc)) from exc
        return [u for u in result if isinstance(u, dict)] if isinstance(result, list) else []

    def _use_safety_rules(self) -> None:
        rules = getattr(self.content.current, "safety_rules", None)
        if rules is not None:
            safety.use_rules(rules)
        model = getattr(self.content.current, "risk_model", None)
        if model is not None:
            safety.use_model(model)
        # Loaded with the content already; run once so no parent's first message pays for
        # anything still built lazily (and the shipped ones load here if content has none).
        safety.warm_up()
        sys.setswitchinterval(GIL_SWITCH_SECONDS)  # long texts are screened in a thread

    async def _watch_content(self) -> None:
        while True:
            await asyncio.sleep(2.0)
            try:
                if self.content.changed():
                    problems = self.content.reload()
                    errors = [p for p in problems if p.severity == "error"]
                    if errors:
                        log.error("content reload refused (%d errors); still serving the last "
                                  "good content. First: %s", len(errors), errors[0])
                    else:
                        self._use_safety_rules()
                        log.info("content reloaded")
            except Exception:
                log.exception("content watch failed")

    async def _checkpoints(self) -> None:
        """Keep SQLite's WAL short from a thread, so no commit on the event loop has to
        (measured: SQLite's automatic checkpoint inside a commit was a visible share of the
        slowest replies at 200 messages a second)."""
        while True:
            await asyncio.sleep(CHECKPOINT_SECONDS)
            try:
                await self.db.checkpoint()
            except Exception as exc:  # e.g. the disk is full; SQLite's own bound still holds
                log.warning("WAL checkpoint failed (%s)", type(exc).__name__)

    async def _start_web(self) -> None:
        app = make_web_app(self.db, webhook_secret=self.settings.webhook_secret,
                           on_stored=self._webhook_stored, ready=self.readiness,
                           metrics_token=self.settings.metrics_token)
        for extend in self.web_extenders:
            extend(app, self)
        self.web_runner, self.web_port = await _serve(app, self.settings.web_host,
                                                      self.settings.web_port)
        ops = make_ops_app(self.readiness)
        add_metrics(ops, self)
        self.ops_runner, self.ops_port = await _serve(ops, self.settings.ops_host,
                                                      self.settings.ops_port)

    async def readiness(self) -> dict[str, Any]:
        """What /readyz shows; with ``reason`` (one sentence, the most urgent problem) the
        line is not ready: it answers 503. With ``warning`` it still serves parents and says
        what an operator must fix: a load balancer must keep routing to it.

        A staff group the bot was removed from is a warning, not a reason: readiness tells
        a load balancer where parents can be answered, and every replica shares the staff
        group, so a 503 would take them all out of rotation and leave parents with nothing,
        crisis lines included, while they could still be answered."""
        async with self.db.read() as s:
            await s.execute(text("SELECT 1"))
            info: dict[str, Any] = {"inbox_backlog": await inbox.backlog(s),
                                    "outbox_pending": await outbox.pending_count(s)}
        reason = self.health.problem()
        if reason is not None:
            info["reason"] = reason
        warning = await self.staff_chat.problem()
        if warning is not None:
            info["warning"] = warning
        return info


async def _serve(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve ``app`` on ``host:port``; the runner and the port it got (``port`` 0: any)."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = getattr(site, "_server", None)
    sockets = getattr(server, "sockets", None) or []
    return runner, (sockets[0].getsockname()[1] if sockets else port)
