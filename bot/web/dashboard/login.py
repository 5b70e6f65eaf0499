"""One-time sign-in links sent through Telegram.

A coordinator (or specialist) sends ``/dashboard`` to the bot and gets a link that
works once, for ten minutes. Only the SHA-256 of the token is stored; the token itself
exists only in the Telegram message. Telegram is the identity provider here: whoever
reads that staff member's private chat is that staff member, which is the same trust
the handoff already places in it.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from urllib.parse import quote

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.web.dashboard.auth import LOGIN_MINUTES, token_hash
from core.context import Ctx
from core.storage.models import LoginToken, Staff

LOGIN_PATH = "/dashboard/login"


def _lang(ctx: Ctx, staff: Staff) -> str:
    """Staff read texts in their first roster language, as in the handoff."""
    return (staff.languages or ["en"])[0]


async def create_token(session: AsyncSession, staff_id: int, now: datetime) -> str:
    """Store a fresh token's hash and return the token (shown once, in the link)."""
    token = secrets.token_urlsafe(32)
    # Old, expired tokens are useless; clear them so the table stays tiny.
    await session.execute(delete(LoginToken).where(LoginToken.expires_at < now))
    session.add(LoginToken(token_hash=token_hash(token), staff_id=staff_id,
                           expires_at=now + timedelta(minutes=LOGIN_MINUTES), used_at=None))
    await session.flush()
    return token


def login_url(base_public_url: str, token: str) -> str:
    return f"{base_public_url.rstrip('/')}{LOGIN_PATH}?token={quote(token)}"


async def issue_login(ctx: Ctx, staff: Staff) -> None:
    """Send ``staff`` a one-time dashboard link in their private chat with the bot."""
    token = await create_token(ctx.session, staff.tg_user_id, ctx.now)
    await ctx.audit(f"staff:{staff.tg_user_id}", "dashboard_link")
    ctx.say(staff.tg_user_id, "dashboard.link", _lang(ctx, staff),
            url=login_url(ctx.settings.base_public_url, token), minutes=LOGIN_MINUTES)


async def consume_token(session: AsyncSession, token: str, now: datetime) -> int | None:
    """The staff id the token signs in, marking it used; ``None`` if unknown, used or expired.

    One conditional UPDATE, so two clicks racing (or two replicas) can't both win.
    """
    if not token or len(token) > 200:
        return None
    h = token_hash(token)
    res = await session.execute(
        update(LoginToken)
        .where(LoginToken.token_hash == h, LoginToken.used_at.is_(None),
               LoginToken.expires_at > now)
        .values(used_at=now)
        .returning(LoginToken.staff_id)
    )
    staff_id = res.scalar_one_or_none()
    return int(staff_id) if staff_id is not None else None
