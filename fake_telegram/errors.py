"""Bot API errors as the real server reports them.

PTB decides which exception to raise from the HTTP status code alone (see
TELEGRAM-FACTS.md), so every error carries the status Telegram would use and
the exact description wording bots tend to match on.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A Bot API method failed; rendered as ``{"ok": false, ...}`` with ``status``."""

    def __init__(
        self, status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        """The JSON body Telegram sends for this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(what: str) -> ApiError:
    """400, worded like Telegram: ``Bad Request: <what>``."""
    return ApiError(400, f"Bad Request: {what}")


def forbidden(what: str) -> ApiError:
    """403, worded like Telegram: ``Forbidden: <what>``."""
    return ApiError(403, f"Forbidden: {what}")


def conflict(what: str) -> ApiError:
    """409, e.g. getUpdates while a webhook is set."""
    return ApiError(409, f"Conflict: {what}")


def too_many_requests(retry_after: int) -> ApiError:
    """429 with ``parameters.retry_after``, which PTB turns into ``RetryAfter``."""
    return ApiError(
        429,
        f"Too Many Requests: retry after {retry_after}",
        {"retry_after": retry_after},
    )


def bad_gateway() -> ApiError:
    """502 as Telegram's front end returns it during incidents; PTB raises NetworkError."""
    return ApiError(502, "Bad Gateway")


def unauthorized(token: str = "1:x") -> ApiError:
    """401 for a wrong token (PTB raises InvalidToken).

    A well-formed but unknown (or revoked) token: telegram-bot-api/Client.cpp
    ``get_closing_error`` answers 401 "Unauthorized" (the authorization failed, the
    client logs out). A malformed one never reaches a client: ClientManager.cpp
    ``ClientManager::send`` answers 401 "Unauthorized: invalid token specified" to a token
    that starts with "0", is over 80 characters, has a "/" or no ":", or whose part before
    the ":" is not a positive bot id.
    """
    head, colon, _ = token.partition(":")
    if (not colon or token.startswith("0") or len(token) > 80 or "/" in token
            or not head.isdigit() or not 0 < int(head) < 1 << 54):
        return ApiError(401, "Unauthorized: invalid token specified")
    return ApiError(401, "Unauthorized")


def not_found() -> ApiError:
    """404 for an unknown method."""
    return ApiError(404, "Not Found: method not found")
