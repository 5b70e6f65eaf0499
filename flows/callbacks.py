"""The callback-data codec: short, signed button payloads.

Telegram lets a client send any ``callback_data`` it likes, so a pressed button is
untrusted input. Each payload carries a truncated HMAC over the action, its argument
and the chat it was sent to; a forged, altered or replayed-into-another-chat payload
decodes to ``None`` and gets a kind "that button has expired" answer.

Format (at most 64 bytes, Telegram's limit): ``<action>|<arg>|<sig>``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from dataclasses import dataclass

MAX_BYTES = 64
_SIG_LEN = 8  # base32 characters of the HMAC (40 bits): enough against guessing via buttons
_SIG_BYTES = _SIG_LEN * 5 // 8
_SEP = "|"


class CallbackTooLong(ValueError):
    """The encoded payload would not fit Telegram's 64-byte limit (a programming error)."""


@dataclass(frozen=True, slots=True)
class Callback:
    action: str
    arg: str = ""


@functools.lru_cache(maxsize=8)
def _keyed(secret: bytes) -> hmac.HMAC:
    """The HMAC with the key already absorbed; each signature copies it (every reply
    signs several buttons, and keying costs as much as the rest of the signature)."""
    return hmac.new(secret, digestmod=hashlib.sha256)


def _sig(secret: bytes, chat_id: int, action: str, arg: str) -> str:
    mac = _keyed(secret).copy()
    mac.update(f"{chat_id}{_SEP}{action}{_SEP}{arg}".encode("utf-8", "surrogatepass"))
    # 8 base32 characters are exactly the first 5 bytes of the digest.
    return base64.b32encode(mac.digest()[:_SIG_BYTES]).decode("ascii").lower()


def encode(secret: bytes, chat_id: int, action: str, arg: str = "") -> str:
    """Encode a button for ``chat_id``; raises :class:`CallbackTooLong` past 64 bytes."""
    if _SEP in action or _SEP in arg:
        raise ValueError("action and arg must not contain '|'")
    data = f"{action}{_SEP}{arg}{_SEP}{_sig(secret, chat_id, action, arg)}"
    if len(data.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise CallbackTooLong(data)
    return data


def decode(secret: bytes, chat_id: int, data: str | None) -> Callback | None:
    """The callback, or ``None`` when ``data`` is malformed, forged or for another chat."""
    if not data or len(data.encode("utf-8", "replace")) > MAX_BYTES:
        return None
    parts = data.split(_SEP)
    if len(parts) != 3:
        return None
    action, arg, sig = parts
    if not action:
        return None
    expected = _sig(secret, chat_id, action, arg).encode("ascii")
    if not hmac.compare_digest(sig.encode("utf-8", "surrogatepass"), expected):
        return None
    return Callback(action, arg)
