"""One aiohttp app for the webhook, health checks and (later) the dashboard.

The webhook answers 200 only after the update is committed to the inbox, so Telegram
redelivers anything we did not store. A request without the right secret token gets 401
and nothing is stored.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot.telegram.intake import store_updates
from bot.telegram.updates import check_update
from core.storage.db import Database

log = logging.getLogger(__name__)

MAX_UPDATE_BYTES = 1_000_000  # a real update is a few KB; refuse anything absurd
WEBHOOK_PATH = "/telegram/webhook"

DB_KEY = web.AppKey("db", Database)
SECRET_KEY = web.AppKey("webhook_secret", str)
STORED_KEY: web.AppKey[Callable[[], None]] = web.AppKey("on_stored")
READY_KEY: web.AppKey[Callable[[], Awaitable[dict[str, Any]]]] = web.AppKey("ready")
# Who may read /metrics and /readyz on an app: None on the ops app (a loopback or private
# address: everyone who can connect); on the public app the bearer token, "" for nobody.
OPS_TOKEN_KEY: web.AppKey[str | None] = web.AppKey("ops_token")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def ops_only(handler: Handler) -> Handler:
    """``handler`` for the ops app; on the public app only with the bearer token (else 404,
    so the public port does not even say the endpoint exists)."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        token = request.app.get(OPS_TOKEN_KEY, "")
        if token is not None:
            given = request.headers.get("Authorization", "")
            if not token or not hmac.compare_digest(given.encode(),
                                                    f"Bearer {token}".encode()):
                return web.Response(status=404, text="not found")
        return await handler(request)

    return guarded


def _no_constant(name: str) -> Any:
    """NaN and Infinity are not JSON (Python accepts them; PostgreSQL would not)."""
    raise ValueError(f"{name} is not JSON")


async def webhook(request: web.Request) -> web.Response:
    secret = request.app[SECRET_KEY]
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
        return web.Response(status=401, text="unauthorized")
    if request.content_length is not None and request.content_length > MAX_UPDATE_BYTES:
        return web.Response(status=413, text="too large")
    try:
        body = await request.content.read(MAX_UPDATE_BYTES + 1)
        if len(body) > MAX_UPDATE_BYTES:
            return web.Response(status=413, text="too large")
        update = json.loads(body, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        # RecursionError: JSON nested thousands of levels deep (json's C parser recurses)
        return web.Response(status=400, text="not json")
    problem = check_update(update)
    if problem is not None:
        log.warning("webhook: refused a malformed update (%s)", problem)
        return web.Response(status=400, text=f"not an update: {problem}")
    await store_updates(request.app[DB_KEY], [update], datetime.now(UTC))
    request.app[STORED_KEY]()
    return web.Response(status=200, text="ok")


async def healthz(_request: web.Request) -> web.Response:
    """Alive: the process answers. (Readiness checks the database.)"""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    try:
        info = await request.app[READY_KEY]()
    except Exception as exc:
        log.warning("readiness check failed: %s", type(exc).__name__)
        return web.json_response({"status": "unavailable"}, status=503)
    if info.get("reason"):  # one sentence: what is wrong and what to do
        return web.json_response({**info, "status": "not_ready"}, status=503)
    if info.get("warning"):  # serving parents, but an operator must fix something
        return web.json_response({**info, "status": "degraded"})
    return web.json_response({"status": "ready", **info})


def make_web_app(db: Database, *, webhook_secret: str, on_stored: Callable[[], None],
                 ready: Callable[[], Awaitable[dict[str, Any]]],
                 metrics_token: str = "") -> web.Application:
    """The public app: the webhook, /healthz, and /readyz only with ``metrics_token``."""
    app = web.Application(client_max_size=MAX_UPDATE_BYTES)
    app[DB_KEY] = db
    app[SECRET_KEY] = webhook_secret
    app[STORED_KEY] = on_stored
    app[READY_KEY] = ready
    app[OPS_TOKEN_KEY] = metrics_token
    app.router.add_post(WEBHOOK_PATH, webhook)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", ops_only(readyz))
    return app


def make_ops_app(ready: Callable[[], Awaitable[dict[str, Any]]]) -> web.Application:
    """The operations app for a loopback or private address: /healthz, /readyz (and
    /metrics, added by :func:`bot.web.metrics.add_metrics`), without a token."""
    app = web.Application(client_max_size=1024)
    app[READY_KEY] = ready
    app[OPS_TOKEN_KEY] = None
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", ops_only(readyz))
    return app
