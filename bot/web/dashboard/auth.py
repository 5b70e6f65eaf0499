"""Dashboard sessions: a signed cookie that names a staff member and an expiry.

The cookie holds only ``staff_id``, when it was issued (microseconds) and when it stops
being valid, signed with an HMAC key derived from ``settings.secret`` (so every replica
accepts it and a restart does not sign people out). The role is *not* in the cookie: it
is read from the roster on every request, so removing someone from the roster or changing
their role takes effect at once.

Sessions end on the server too: every request also checks the cookie was issued at or
after the staff member's ``sessions_valid_from`` (:func:`issued_in_time`), which signing
out moves to that moment and a (re-)added staff row starts at, so signing out, or being
removed and added back, ends every session issued before.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

COOKIE_NAME = "parentline_dashboard"
SESSION_HOURS = 8
LOGIN_MINUTES = 10
_VERSION = "v2"  # v1 cookies carried no issue time: refused, so people sign in once more


def _key(secret: bytes) -> bytes:
    """A key only for cookies, so a cookie signature is never a valid button signature."""
    return hmac.new(secret, b"parentline dashboard session", hashlib.sha256).digest()


def _sign(secret: bytes, payload: str) -> str:
    mac = hmac.new(_key(secret), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


@dataclass(frozen=True, slots=True)
class Session:
    """Who the cookie says is signed in, and until when."""

    staff_id: int
    expires_at: int  # unix seconds
    issued_at_us: int  # unix microseconds


def micros(moment: datetime) -> int:
    """``moment`` in whole unix microseconds (exact: no float rounding)."""
    delta = moment - datetime(1970, 1, 1, tzinfo=moment.tzinfo)
    offset = moment.utcoffset()
    return (delta - (offset or timedelta(0))) // timedelta(microseconds=1)


def issued_in_time(session: Session, valid_from: datetime | None) -> bool:
    """Whether the session began at or after ``valid_from`` (the staff member's floor)."""
    return valid_from is None or session.issued_at_us >= micros(valid_from)


def make_cookie(secret: bytes, staff_id: int, now: datetime,
                hours: float = SESSION_HOURS) -> tuple[str, int]:
    """The cookie value and its lifetime in seconds (for ``Max-Age``)."""
    max_age = int(timedelta(hours=hours).total_seconds())
    expires = int(now.timestamp()) + max_age
    payload = f"{_VERSION}.{staff_id}.{micros(now)}.{expires}"
    return f"{payload}.{_sign(secret, payload)}", max_age


def read_cookie(secret: bytes, value: str | None, now: datetime) -> Session | None:
    """The session in ``value``, or ``None`` if it is missing, forged, altered or expired."""
    if not value:
        return None
    parts = value.split(".")
    if len(parts) != 5 or parts[0] != _VERSION:
        return None
    payload = ".".join(parts[:4])
    if not hmac.compare_digest(parts[4], _sign(secret, payload)):
        return None
    try:
        staff_id, issued, expires = int(parts[1]), int(parts[2]), int(parts[3])
    except ValueError:
        return None
    if expires <= now.timestamp():
        return None
    return Session(staff_id=staff_id, expires_at=expires, issued_at_us=issued)


def token_hash(token: str) -> str:
    """What is stored for a login token: its SHA-256, so a database leak is not a login."""
    return hashlib.sha256(token.encode()).hexdigest()


def form_token(secret: bytes, cookie_value: str) -> str:
    """The hidden field every roster form carries: bound to this very session cookie.

    The cookie is already ``SameSite=Lax`` (a cross-site POST arrives without it), which
    is all sign-out relies on; changing the roster can hurt parents, so it also needs
    this token, which another site cannot read and a sibling subdomain cannot forge.
    """
    mac = hmac.new(_key(secret), b"form:" + cookie_value.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def form_token_ok(secret: bytes, cookie_value: str | None, sent: str | None) -> bool:
    if not cookie_value or not sent:
        return False
    return hmac.compare_digest(sent, form_token(secret, cookie_value))
