"""The ``/demo`` page: a parent's phone and a specialist's phone, side by side.

The page reads both chats straight from the fake Telegram's world (every message from
either side, with its current text and buttons) and acts through the fake's user-side
actions, so pressing a button here is exactly a Telegram button press for the line.
Only the two demo users can be driven, and only with a JSON body (which a foreign web
page cannot send without a CORS preflight this server never answers).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiohttp import web

from bot.demo.line import PARENT_ID, SPECIALIST_ID
from bot.web.dashboard.templating import security_headers

if TYPE_CHECKING:
    from bot.app.runtime import LineRuntime, WebExtender
    from bot.demo.line import DemoLine
    from fake_telegram.state import StoredMessage

PAGE = Path(__file__).parent / "templates" / "demo.html"
STYLE = Path(__file__).parent / "static" / "demo.css"
# URL buttons open only web pages over TLS and Telegram's own links; anything else
# (javascript:, data:, http:, file:, relative paths) is shown as plain text.
URL_SCHEMES = frozenset({"https", "tg"})


def safe_url(url: Any) -> str | None:
    """``url`` when a URL button may link to it, else ``None``."""
    if not isinstance(url, str) or any(c.isspace() or ord(c) < 32 for c in url):
        return None
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in URL_SCHEMES else None


def _button(b: dict[str, Any]) -> dict[str, Any]:
    if "url" not in b:
        return b
    url = safe_url(b["url"])
    return {k: v for k, v in b.items() if k != "url"} | ({"url": url} if url else {})
WHO = {"parent": PARENT_ID, "specialist": SPECIALIST_ID}
MAX_TEXT = 4096


def message_view(m: StoredMessage) -> dict[str, Any]:
    """What one chat bubble needs; callback data is passed back as-is when pressed."""
    text = m.text if m.kind == "text" else m.caption
    return {
        "id": m.message_id,
        "from_bot": m.from_bot,
        "kind": m.kind,
        "text": text or "",
        "buttons": [[_button(b) for b in row] for row in m.buttons()],
        "deleted": m.deleted,
        "edited": bool(m.edits) or m.edit_date is not None,
        "reply_to": m.reply_to.message_id if m.reply_to else None,
        "ts": m.ts,
    }


def chat_view(demo: DemoLine, chat_id: int) -> list[dict[str, Any]]:
    world = demo.fake.world
    msgs = [m for (c, _i), m in world.messages.items() if c == chat_id]
    return [message_view(m) for m in sorted(msgs, key=lambda m: m.message_id)]


def _toasts(demo: DemoLine) -> list[dict[str, Any]]:
    """Button-press answers with text (Telegram shows them as a small toast)."""
    return [{"seq": e["seq"], "chat_id": e["chat_id"], "text": e.get("text")}
            for e in demo.fake.world.events[-20:]
            if e.get("type") == "callback_answer" and e.get("text")]


def add_demo_page(demo: DemoLine) -> WebExtender:
    """A runtime web extender serving the demo page and its small JSON API."""

    async def page(_request: web.Request) -> web.Response:
        """The page with the dashboard's Content-Security-Policy: its one script runs by
        nonce, its style comes from this server, nothing else loads or runs."""
        nonce = secrets.token_urlsafe(16)
        html = PAGE.read_text(encoding="utf-8").replace("{{nonce}}", nonce)
        response = web.Response(text=html, content_type="text/html", charset="utf-8")
        security_headers(response, nonce)
        return response

    async def style(_request: web.Request) -> web.Response:
        return web.Response(text=STYLE.read_text(encoding="utf-8"), content_type="text/css",
                            headers={"Cache-Control": "no-store",
                                     "X-Content-Type-Options": "nosniff"})

    async def state(_request: web.Request) -> web.Response:
        return web.json_response({
            "version": len(demo.fake.world.events),
            "parent": chat_view(demo, PARENT_ID),
            "specialist": chat_view(demo, SPECIALIST_ID),
            "toasts": _toasts(demo),
            "onduty": demo.onduty_confirmed,
        }, headers={"Cache-Control": "no-store"})

    async def _body(request: web.Request) -> dict[str, Any]:
        if request.content_type != "application/json":
            raise web.HTTPUnsupportedMediaType(text="send JSON")
        try:
            body = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(text="body is not JSON") from None
        if not isinstance(body, dict) or body.get("who") not in WHO:
            raise web.HTTPBadRequest(text="who must be parent or specialist")
        return body

    async def send(request: web.Request) -> web.Response:
        body = await _body(request)
        text = str(body.get("text", ""))[:MAX_TEXT]
        if not text.strip():
            raise web.HTTPBadRequest(text="empty message")
        reply_to = body.get("reply_to")
        try:
            demo.fake.user_sends(WHO[body["who"]], text,
                                 reply_to=int(reply_to) if reply_to else None)
        except (ValueError, KeyError) as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        return web.json_response({"ok": True})

    async def press(request: web.Request) -> web.Response:
        body = await _body(request)
        try:
            demo.fake.user_presses(WHO[body["who"]], int(body["message_id"]),
                                   str(body["data"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        return web.json_response({"ok": True})

    async def dashboard(_request: web.Request) -> web.Response:
        """Demo only: sign the demo coordinator in without the Telegram step."""
        raise web.HTTPSeeOther(await demo.dashboard_link())

    def extend(app: web.Application, _runtime: LineRuntime) -> None:
        app.router.add_get("/", _root)
        app.router.add_get("/demo", page)
        app.router.add_get("/demo/demo.css", style)
        app.router.add_get("/demo/api/state", state)
        app.router.add_post("/demo/api/send", send)
        app.router.add_post("/demo/api/press", press)
        app.router.add_get("/demo/dashboard", dashboard)

    return extend


async def _root(_request: web.Request) -> web.Response:
    raise web.HTTPFound("/demo")
