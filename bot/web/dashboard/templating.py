"""Jinja2 rendering with autoescaping, plus the headers every dashboard page carries.

aiohttp-jinja2 is not a dependency; a plain ``jinja2.Environment`` is all this needs.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from bot.web.dashboard.stats import minutes_label

TEMPLATES = Path(__file__).parent / "templates"


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every template is HTML; nothing is ever marked safe by hand
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["minutes"] = minutes_label
    env.filters["when"] = _when
    return env


def security_headers(response: web.StreamResponse, nonce: str | None = None) -> None:
    """No caching, no framing, no referrer (the login link carries a token), tight CSP."""
    script = f"'nonce-{nonce}'" if nonce else "'none'"
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'self'; img-src 'self' data:; script-src {script}; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"


def page(name: str, status: int = 200, **params: Any) -> web.Response:
    """Render ``templates/name`` with a fresh script nonce."""
    nonce = secrets.token_urlsafe(16)
    html = environment().get_template(name).render(nonce=nonce, **params)
    response = web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
    security_headers(response, nonce)
    return response
