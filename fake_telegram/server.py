"""The HTTP face of the fake: ``/bot{token}/{method}`` exactly as PTB calls it.

Bodies arrive form-encoded (strings as-is, everything else JSON-encoded),
as JSON, or as multipart for uploads; all three decode to one ``params``
dict. Answers are ``{"ok": true, "result": ...}`` or Telegram's error shape
with the real status code, because PTB picks its exception from the status.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from fake_telegram import methods
from fake_telegram.errors import ApiError, conflict, unauthorized
from fake_telegram.faults import Faults
from fake_telegram.state import LoggedRequest, World

# Form values that must stay strings even when they look like JSON ("123", "true").
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "callback_query_id",
        "data",
        "url",
        "secret_token",
        "parse_mode",
        "action",
        "title",
        "description",
        "question",
        "first_name",
        "last_name",
        "inline_message_id",
        "language_code",
        "emoji",
        "business_connection_id",
        "message_effect_id",
        "photo",
        "document",
        "voice",
        "video",
        "audio",
        "sticker",
        "video_note",
        "ip_address",
        "certificate",
    }
)
# telegram-bot-api/Client.cpp, abort_long_poll(false): a parked getUpdates ended by a newer
# one that parks in its place (do_get_updates, ``timeout != 0 && updates.size() == 0``).
_SUPERSEDED = (
    "terminated by other getUpdates request; make sure that only one bot instance is running"
)
# telegram-bot-api/Client.cpp, abort_long_poll(true): a parked getUpdates ended by a
# setWebhook with a URL (process_set_webhook_query).
_SUPERSEDED_BY_WEBHOOK = "terminated by setWebhook request"
# telegram-bot-api/Client.cpp, process_get_updates_query, while a webhook URL is set.
_WEBHOOK_ACTIVE = (
    "can't use getUpdates method while webhook is active; use deleteWebhook to "
    "delete the webhook first"
)


def decode_value(key: str, value: str) -> Any:
    """Undo PTB's form encoding: JSON for non-strings, raw text for strings."""
    if key in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


async def read_params(request: web.Request) -> dict[str, Any]:
    """Merge query string and body (form, JSON or multipart) into one dict."""
    params: dict[str, Any] = {k: decode_value(k, v) for k, v in request.query.items()}
    if not request.can_read_body:
        return params
    if request.content_type == "application/json":
        body = await request.json()
        if isinstance(body, dict):
            params.update(body)
        return params
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, str):
            params[key] = decode_value(key, value)
        else:  # an uploaded file
            params[key] = {"upload": getattr(value, "filename", None) or key}
    return params


class ApiHandler:
    """Serves Bot API calls for one token, applying faults and logging every call."""

    def __init__(self, world: World, faults: Faults, token: str) -> None:
        self.world = world
        self.faults = faults
        self.token = token
        self.closing = asyncio.Event()
        self._poll_generation = 0

    def shutdown(self) -> None:
        """Wake parked long polls: aiohttp would otherwise wait out their timeout."""
        self.closing.set()
        self.world.notify()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """One Bot API request, end to end."""
        name = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return self._log_and_answer(name, None, unauthorized(request.match_info["token"]), {})
        try:
            params = await read_params(request)
        except ValueError:
            error = ApiError(400, "Bad Request: can't parse request body")
            return self._log_and_answer(name, None, error, {})
        canonical = methods.find(name) or ("getUpdates" if name.lower() == "getupdates" else name)
        chat_id = params.get("chat_id")
        decision = self.faults.decide(canonical, chat_id)
        if decision.drop == "drop":
            return self._drop(request, canonical, chat_id, "drop", params)
        if decision.error is not None:
            return self._log_and_answer(canonical, chat_id, decision.error, params, fault=True)
        try:
            if canonical == "getUpdates":
                result = await self.get_updates(params, request.match_info["token"])
            else:
                result = methods.call(self.world, canonical, params)
        except ApiError as error:
            return self._log_and_answer(canonical, chat_id, error, params)
        if decision.drop == "drop_after":
            return self._drop(request, canonical, chat_id, "drop_after", params)
        self._log(canonical, chat_id, 200, params)
        return web.json_response({"ok": True, "result": result})

    def revoke_token(self, new_token: str) -> None:
        """The old token stops working at once (a parked long poll answers 401 too)."""
        self.token = new_token
        self.world.notify()

    async def get_updates(self, params: dict[str, Any], token: str) -> list[dict[str, Any]]:
        """Long polling with Telegram's offset semantics.

        ``offset=N`` confirms (drops) every update below N; updates fetched but not
        confirmed come again to whoever polls next. A newer call that parks (a timeout
        and nothing to return) supersedes a parked one, which then gets 409, as on
        Telegram; a call that answers at once leaves the parked one alone
        (Client.cpp do_get_updates calls abort_long_poll only when it parks). A
        setWebhook ends a parked poll with 409 too. Not modelled: Client.cpp's
        fail_query_conflict answers at most one 409 every 3 s and delays the others by
        3 s.
        """
        world = self.world
        if world.webhook.url:
            raise conflict(_WEBHOOK_ACTIVE)
        if params.get("offset") is not None:
            world.acknowledge(int(params["offset"]))
        if "allowed_updates" in params:
            world.allowed_updates = params["allowed_updates"] or None
        limit = min(100, max(1, int(params.get("limit") or 100)))
        timeout = max(0.0, float(params.get("timeout") or 0))
        world.expire()  # what outlived its lifetime is never delivered
        if world.pending or timeout == 0:
            return world.pending[:limit]
        self._poll_generation += 1
        generation = self._poll_generation
        world.notify()  # lets an older parked poll notice it was superseded
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if token != self.token:
                raise unauthorized()  # revoked while parked
            if generation != self._poll_generation:
                raise conflict(_SUPERSEDED)
            world.expire()  # what outlived its lifetime is never delivered
            if world.webhook.url:
                # telegram-bot-api/Client.cpp abort_long_poll(from_set_webhook=true): a
                # parked poll answers "Conflict: terminated by setWebhook request".
                raise conflict(_SUPERSEDED_BY_WEBHOOK)
            if world.pending:
                return world.pending[:limit]
            remaining = deadline - loop.time()
            if self.closing.is_set() or remaining <= 0:
                return []
            await world.wait_changed(remaining)

    def _drop(
        self, request: web.Request, method: str, chat_id: Any, kind: str, params: dict[str, Any]
    ) -> web.StreamResponse:
        """Close the connection without an answer (the client sees a protocol error)."""
        self._log(method, chat_id, 0, params, fault=kind)
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=204)

    def _log_and_answer(
        self,
        method: str,
        chat_id: Any,
        error: ApiError,
        params: dict[str, Any],
        *,
        fault: bool = False,
    ) -> web.Response:
        payload = error.payload()
        self._log(method, chat_id, error.status, params,
                  fault=f"status_{error.status}" if fault else None, error=payload)
        return web.json_response(payload, status=error.status)

    def _log(
        self,
        method: str,
        chat_id: Any,
        status: int,
        params: dict[str, Any],
        fault: str | None = None,
        error: dict[str, Any] | None = None,
    ) -> None:
        if isinstance(chat_id, str) and chat_id.lstrip("-").isdigit():
            chat_id = int(chat_id)
        self.world.requests_log.append(
            LoggedRequest(
                method=method,
                chat_id=chat_id,
                status=status,
                ts=self.world.now(),
                fault=fault,
                params=params,
                error=error,
            )
        )


@web.middleware
async def cors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Let a demo page on another port drive ``/_control`` from the browser."""
    if request.method == "OPTIONS" and request.path.startswith("/_control"):
        response: web.StreamResponse = web.Response()
    else:
        response = await handler(request)
    if request.path.startswith("/_control"):
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    return response


def create_app(api: ApiHandler, control_routes: list[web.RouteDef]) -> web.Application:
    """The aiohttp application: Bot API routes plus the control routes."""
    app = web.Application(middlewares=[cors], client_max_size=60 * 1024 * 1024)
    app.router.add_route("*", "/bot{token}/{method}", api.handle)
    app.add_routes(control_routes)
    return app
