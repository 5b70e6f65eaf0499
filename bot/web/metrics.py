"""Prometheus metrics at ``/metrics``, in the text exposition format written by hand.

A handful of gauges an operator alerts on: work piling up (inbox backlog, outbox
pending), parents waiting (queue length by priority), nobody to answer (specialists on
duty), a content edit that did not go live (reload errors), restarts (uptime), and someone
else taking the bot's updates (getUpdates conflicts: a gauge and a counter).
No client library: the format is a few lines of text, and one dependency fewer matters
for a small nonprofit install. Values are counts only — never names or text.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aiohttp import web
from sqlalchemy import func, select

from bot.telegram.health import CONFLICT_KINDS
from bot.web.server import ops_only
from core.storage import inbox, outbox
from core.storage.models import Conversation, Staff

if TYPE_CHECKING:
    from bot.app.runtime import LineRuntime

RUNTIME: web.AppKey[LineRuntime] = web.AppKey("metrics_runtime")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PRIORITIES = ("crisis", "normal")
_PROCESS_START = time.time()


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _num(value: float) -> str:
    """Integers as integers; other values with full precision (timestamps need it)."""
    v = float(value)
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)


def gauge(name: str, help_: str, samples: Iterable[tuple[dict[str, str], float]],
          kind: str = "gauge") -> str:
    """One metric family: ``# HELP``, ``# TYPE`` and its samples."""
    lines = [f"# HELP {name} {help_}", f"# TYPE {name} {kind}"]
    for labels, value in samples:
        label_text = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
        lines.append(f"{name}{{{label_text}}} {_num(value)}" if label_text
                     else f"{name} {_num(value)}")
    return "\n".join(lines) + "\n"


def counter(name: str, help_: str, samples: Iterable[tuple[dict[str, str], float]]) -> str:
    """A count that only grows (``name`` ends in ``_total``); rate() it in an alert."""
    return gauge(name, help_, samples, kind="counter")


#: The calls whose refusal only means their window passed (``bot.telegram.client``).
TOO_LATE_METHODS = ("answerCallbackQuery", "deleteMessage")


async def collect(runtime: LineRuntime) -> str:
    """The whole exposition for this replica, read in one short transaction."""
    async with runtime.db.reports() as s:
        backlog = await inbox.backlog(s)
        pending = await outbox.pending_count(s)
        rows = await s.execute(
            select(Conversation.priority, func.count())
            .where(Conversation.status == "queued").group_by(Conversation.priority))
        queue = {str(p): int(n) for p, n in rows.all()}
        duty = await s.execute(
            select(Staff.paused, func.count()).where(Staff.on_duty.is_(True))
            .group_by(Staff.paused))
        on_duty = {bool(p): int(n) for p, n in duty.all()}
    problems = getattr(runtime.content, "last_problems", []) or []
    errors = sum(1 for p in problems if getattr(p, "severity", "error") == "error")
    last_reload = getattr(runtime.content, "last_reload_at", None)
    started = runtime.started_at.timestamp() if runtime.started_at else _PROCESS_START
    now = datetime.now(UTC).timestamp()
    health = runtime.health
    staff_problem = await runtime.staff_chat.problem()
    parts = [
        gauge("parentline_inbox_backlog", "Updates stored but not yet processed.",
              [({}, backlog)]),
        gauge("parentline_outbox_pending", "Bot API calls waiting to be sent.", [({}, pending)]),
        gauge("parentline_queue_length", "Parents waiting for a person, by priority.",
              [({"priority": p}, queue.get(p, 0)) for p in
               (*PRIORITIES, *sorted(set(queue) - set(PRIORITIES)))]),
        gauge("parentline_specialists_on_duty", "Staff on duty (paused ones counted apart).",
              [({"paused": "false"}, on_duty.get(False, 0)),
               ({"paused": "true"}, on_duty.get(True, 0))]),
        gauge("parentline_content_reload_errors",
              "Errors in the last content reload (>0: the last edit was refused).",
              [({}, errors)]),
        gauge("parentline_content_last_reload_timestamp_seconds",
              "When content last loaded successfully.",
              [({}, last_reload.timestamp() if last_reload else 0)]),
        gauge("parentline_process_start_time_seconds", "When this process started.",
              [({}, started)]),
        gauge("parentline_process_uptime_seconds", "Seconds since this process started.",
              [({}, max(0.0, now - started))]),
        gauge("parentline_telegram_token_rejected",
              "1 while Telegram answers 401 Unauthorized (set a new bot token and restart).",
              [({}, 1 if health.token_rejected else 0)]),
        gauge("parentline_telegram_last_success_timestamp_seconds",
              "When a Bot API call last succeeded (0: none yet).",
              [({}, health.last_success or 0)]),
        gauge("parentline_poll_last_success_timestamp_seconds",
              "When getUpdates last answered (polling mode; 0: none yet).",
              [({}, health.last_poll or 0)]),
        gauge("parentline_poll_age_seconds",
              "Seconds since getUpdates last answered (polling mode; a long poll lasts 25 s).",
              _age(now, health.last_poll, started, runtime.poller is not None)),
        gauge("parentline_webhook_last_update_timestamp_seconds",
              "When the webhook last stored an update from Telegram (0: none yet).",
              [({}, health.last_webhook or 0)]),
        gauge("parentline_webhook_age_seconds",
              "Seconds since the webhook last stored an update (webhook mode; quiet hours "
              "are normal).",
              _age(now, health.last_webhook, started, runtime.settings.webhook_mode)),
        counter("parentline_telegram_too_late_total",
                "Bot API calls Telegram refused because their window had passed (a button "
                "answered after about 15 s, a message over 48 h old deleted); not retried.",
                [({"method": m}, runtime.sender.too_late.get(m, 0)) for m in
                 (*TOO_LATE_METHODS, *sorted(set(runtime.sender.too_late) -
                                             set(TOO_LATE_METHODS)))]),
        counter("parentline_updates_missed_total",
                "Update ids Telegram skipped between polls: updates it dropped unfetched "
                "(kept at most 24 h, presses 150 s), e.g. during a long outage (polling).",
                [({}, health.missed_updates)]),
        gauge("parentline_telegram_poll_conflict",
              "1 while getUpdates answers 409 Conflict: kind=other_poller (another process "
              "polls with this token: stop it) or kind=webhook (someone set a webhook).",
              [({"kind": k}, 1 if health.poll_conflict_now(k) else 0) for k in CONFLICT_KINDS]
              if runtime.poller is not None else []),
        counter("parentline_telegram_poll_conflicts_total",
                "getUpdates answers 409 Conflict since start, by who took the updates.",
                [({"kind": k}, health.conflicts[k]) for k in CONFLICT_KINDS]
                if runtime.poller is not None else []),
        gauge("parentline_staff_chat_reachable",
              "0 when the bot is not in the staff group (alerts cannot reach it), else 1.",
              [({}, 0 if staff_problem else 1)] if runtime.staff_chat.chat_id is not None
              else []),
    ]
    return "".join(parts)


def _age(now: float, last: float | None, started: float,
         applies: bool) -> list[tuple[dict[str, str], float]]:
    """Seconds since ``last`` (since start when nothing came yet); no sample when the
    mode does not apply."""
    if not applies:
        return []
    return [({}, max(0.0, now - (last if last is not None else started)))]


async def metrics(request: web.Request) -> web.Response:
    body = await collect(request.app[RUNTIME])
    return web.Response(body=body.encode(), headers={"Content-Type": CONTENT_TYPE})


def add_metrics(app: web.Application, runtime: LineRuntime) -> None:
    """Serve ``/metrics``: openly on the ops app, on the public app only with the bearer
    token (``PARENTLINE_METRICS_TOKEN``; see :func:`bot.web.server.ops_only`)."""
    app[RUNTIME] = runtime
    app.router.add_get("/metrics", ops_only(metrics))
